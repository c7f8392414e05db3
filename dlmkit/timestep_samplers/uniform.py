"""Uniform timesteps for teacher training: every step equally likely."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from dlmkit.randomness import randint


class UniformTimesteps:
    """Every timestep equally likely; importance weights are all one."""

    def __init__(self, num_timesteps: int):
        self.num_timesteps = num_timesteps

    def sample(self, batch: int, generator: torch.Generator, device: torch.device) -> tuple[Tensor, Tensor]:
        t = randint(0, self.num_timesteps, (batch,), generator, device)
        return t, torch.ones(batch, device=device)

    def update(self, t: Tensor, losses: Tensor) -> None:
        """Uniform sampling learns nothing from losses."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore."""


def build_uniform(params: None, num_timesteps: int) -> UniformTimesteps:
    """Every timestep equally likely (importance weights all one)."""
    return UniformTimesteps(num_timesteps)

"""The sampler contract: from condition ids to generated target ids."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from dlmkit.interfaces.dataset import Batch
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.teacher import Denoiser


@runtime_checkable
class NoiseSource(Protocol):
    """Where a sampler's Gaussian noise comes from; replaying one reproduces a run exactly."""

    def initial(self, shape: torch.Size, like: Tensor) -> Tensor:
        """The starting noise ``x_T``."""
        ...

    def step(self, index: int, shape: torch.Size, like: Tensor) -> Tensor:
        """The fresh noise of the ``index``-th update (0 = first update)."""
        ...


@runtime_checkable
class Sampler(Protocol):
    """Generates the target part of packed sequences; the condition part is given in ``batch``.

    Returns token ids ``[B, L]`` for the whole sequence (condition positions echo the input).
    """

    def sample(self, model: Denoiser, batch: Batch, schedule: NoiseSchedule, noise: NoiseSource) -> Tensor: ...

    def nfe(self, num_timesteps: int | None = None) -> int:
        """Network evaluations per sequence (``num_timesteps``: for samplers whose count follows the schedule)."""
        ...

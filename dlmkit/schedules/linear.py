"""iDDPM's ``linear`` schedule: DDPM's betas 1e-4..0.02 at 1000 steps, rescaled by ``1000 / T``."""

from __future__ import annotations

from typing import Any

import attrs
import torch
from torch import Tensor

from dlmkit.schedules.discrete import NUM_TIMESTEPS_RULE, DiscreteSchedule


def _beta_end_below_one(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    scaled = value * 1000.0 / instance.num_timesteps
    if scaled > 0.999:
        raise ValueError(
            f"linear schedule: beta_end * 1000 / num_timesteps = {scaled:.4g} must be <= 0.999; "
            f"use num_timesteps >= {int(value * 1000.0 / 0.999) + 1} or a smaller beta_end"
        )


@attrs.frozen
class LinearScheduleParams:
    """``beta_start``/``beta_end`` are the values at 1000 steps; other ``T`` rescale them (iDDPM)."""

    num_timesteps: int = attrs.field(default=2000, validator=NUM_TIMESTEPS_RULE)
    beta_start: float = attrs.field(default=1e-4, converter=float, validator=attrs.validators.gt(0.0))
    beta_end: float = attrs.field(
        default=0.02, converter=float, validator=[attrs.validators.gt(0.0), _beta_end_below_one]
    )

    def __attrs_post_init__(self) -> None:
        if self.beta_start > self.beta_end:
            raise ValueError(
                f"linear schedule: beta_start ({self.beta_start}) must not exceed beta_end ({self.beta_end})"
            )


def linear_betas(num_timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> Tensor:
    scale = 1000.0 / num_timesteps
    return torch.linspace(scale * beta_start, scale * beta_end, num_timesteps, dtype=torch.float64)


def build_linear_schedule(params: LinearScheduleParams) -> DiscreteSchedule:
    return DiscreteSchedule(linear_betas(params.num_timesteps, params.beta_start, params.beta_end), name="linear")

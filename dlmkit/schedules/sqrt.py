"""DiffuSeq's ``sqrt`` schedule: ``abar(s) = 1 - sqrt(s + 1e-4)``, last beta clipped to 0.999."""

from __future__ import annotations

import math

import attrs
from torch import Tensor

from dlmkit.schedules.discrete import NUM_TIMESTEPS_RULE, DiscreteSchedule
from dlmkit.schedules.discretize import betas_from_alpha_bar


@attrs.frozen
class SqrtScheduleParams:
    """``num_timesteps`` is DiffuSeq's ``diffusion_steps`` (2000 for every released model)."""

    num_timesteps: int = attrs.field(default=2000, validator=NUM_TIMESTEPS_RULE)


def sqrt_alpha_bar(s: float) -> float:
    """Noise rises fast at first (``abar`` drops by 1.5% in the first step), then slowly."""
    return 1.0 - math.sqrt(s + 1e-4)


def sqrt_betas(num_timesteps: int) -> Tensor:
    # abar(1) < 0, so the last ratio is negative and the 0.999 clip decides the last beta.
    return betas_from_alpha_bar(num_timesteps, sqrt_alpha_bar, max_beta=0.999)


def build_sqrt_schedule(params: SqrtScheduleParams) -> DiscreteSchedule:
    return DiscreteSchedule(sqrt_betas(params.num_timesteps), name="sqrt")

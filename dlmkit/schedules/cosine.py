"""iDDPM's ``cosine`` schedule: ``abar(s) = cos^2((s + 0.008) / 1.008 * pi / 2)``, betas clipped at 0.999."""

from __future__ import annotations

import math

import attrs
from torch import Tensor

from dlmkit.schedules.discrete import NUM_TIMESTEPS_RULE, DiscreteSchedule
from dlmkit.schedules.discretize import betas_from_alpha_bar


@attrs.frozen
class CosineScheduleParams:
    num_timesteps: int = attrs.field(default=2000, validator=NUM_TIMESTEPS_RULE)


def cosine_alpha_bar(s: float) -> float:
    """The 0.008 offset keeps the first betas from vanishing; abar(1) = 0 forces the final clip."""
    return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2


def cosine_betas(num_timesteps: int) -> Tensor:
    return betas_from_alpha_bar(num_timesteps, cosine_alpha_bar, max_beta=0.999)


def build_cosine_schedule(params: CosineScheduleParams) -> DiscreteSchedule:
    return DiscreteSchedule(cosine_betas(params.num_timesteps), name="cosine")

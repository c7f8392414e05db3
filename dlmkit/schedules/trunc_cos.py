"""DiffuSeq's ``trunc_cos`` schedule: ``abar(s) = cos^2((s + 0.1) / 1.1 * pi / 2)``, truncated at both ends.

The 0.1 offset starts the process already noised (``abar(0)`` is about 0.98, the first beta) and
ends it short of pure noise; DiffuSeq discretizes it with its second rule.
"""

from __future__ import annotations

import math

import attrs
from torch import Tensor

from dlmkit.schedules.discrete import NUM_TIMESTEPS_RULE, DiscreteSchedule
from dlmkit.schedules.discretize import betas_from_alpha_bar_from_zero


@attrs.frozen
class TruncCosScheduleParams:
    num_timesteps: int = attrs.field(default=2000, validator=NUM_TIMESTEPS_RULE)


def trunc_cos_alpha_bar(s: float) -> float:
    return math.cos((s + 0.1) / 1.1 * math.pi / 2) ** 2


def trunc_cos_betas(num_timesteps: int) -> Tensor:
    return betas_from_alpha_bar_from_zero(num_timesteps, trunc_cos_alpha_bar, max_beta=0.999)


def build_trunc_cos_schedule(params: TruncCosScheduleParams) -> DiscreteSchedule:
    return DiscreteSchedule(trunc_cos_betas(params.num_timesteps), name="trunc_cos")

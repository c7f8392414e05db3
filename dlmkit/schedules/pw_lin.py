"""DiffuSeq's ``pw_lin`` schedule: piecewise-linear betas, a fast first segment then the linear ramp.

The first 10 betas fall linearly from ``trunc_lin``'s first beta (0.01 + 1e-4 * 1000 / T) to the linear
schedule's (1e-4 * 1000 / T); the remaining ``T - 10`` rise from there to 0.02 * 1000 / T.
"""

from __future__ import annotations

import attrs
import torch
from torch import Tensor

from dlmkit.schedules.discrete import NUM_TIMESTEPS_RULE, DiscreteSchedule
from dlmkit.schedules.trunc_lin import OFFSET, last_beta_below_one

#: Length of the first, falling segment.
FIRST_SEGMENT = 10


@attrs.frozen
class PwLinScheduleParams:
    num_timesteps: int = attrs.field(default=2000, validator=[*NUM_TIMESTEPS_RULE, last_beta_below_one])


def pw_lin_betas(num_timesteps: int) -> Tensor:
    scale = 1000.0 / num_timesteps
    start, mid, end = scale * 1e-4 + OFFSET, scale * 1e-4, scale * 0.02
    first = torch.linspace(start, mid, FIRST_SEGMENT, dtype=torch.float64)
    second = torch.linspace(mid, end, num_timesteps - FIRST_SEGMENT, dtype=torch.float64)
    return torch.cat([first, second])


def build_pw_lin_schedule(params: PwLinScheduleParams) -> DiscreteSchedule:
    return DiscreteSchedule(pw_lin_betas(params.num_timesteps), name="pw_lin")

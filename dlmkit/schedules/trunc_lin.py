"""DiffuSeq's ``trunc_lin`` schedule: iDDPM's rescaled linear betas, each raised by 0.01.

The offset makes every step add noise (the first beta is 0.01 + 1e-4 * 1000 / T), so the process
is truncated at the clean end.
"""

from __future__ import annotations

from typing import Any

import attrs
import torch
from torch import Tensor

from dlmkit.schedules.discrete import NUM_TIMESTEPS_RULE, DiscreteSchedule

#: The offset DiffuSeq adds to both ends of the linear betas.
OFFSET = 0.01


def last_beta_below_one(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    """The schedules rescale DDPM's end beta 0.02 by ``1000 / T``: fewer than 21 steps would pass 0.999."""
    if value < 21:
        raise ValueError(f"'{attribute.name}' must be at least 21 for this schedule (its last beta must stay below 1)")


@attrs.frozen
class TruncLinScheduleParams:
    num_timesteps: int = attrs.field(default=2000, validator=[*NUM_TIMESTEPS_RULE, last_beta_below_one])


def trunc_lin_betas(num_timesteps: int) -> Tensor:
    scale = 1000.0 / num_timesteps
    return torch.linspace(scale * 1e-4 + OFFSET, scale * 0.02 + OFFSET, num_timesteps, dtype=torch.float64)


def build_trunc_lin_schedule(params: TruncLinScheduleParams) -> DiscreteSchedule:
    return DiscreteSchedule(trunc_lin_betas(params.num_timesteps), name="trunc_lin")

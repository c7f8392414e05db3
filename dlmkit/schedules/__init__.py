"""Built-in noise schedules (one file each) and their registration hook."""

from __future__ import annotations

from dlmkit.hookspecs import Register, hookimpl
from dlmkit.schedules.cosine import CosineScheduleParams, build_cosine_schedule
from dlmkit.schedules.discrete import DiscreteSchedule
from dlmkit.schedules.linear import LinearScheduleParams, build_linear_schedule
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule

__all__ = [
    "CosineScheduleParams",
    "DiscreteSchedule",
    "LinearScheduleParams",
    "SqrtScheduleParams",
    "build_cosine_schedule",
    "build_linear_schedule",
    "build_sqrt_schedule",
    "register_schedules",
]


@hookimpl
def register_schedules(register: Register) -> None:
    register(
        "sqrt",
        build_sqrt_schedule,
        params=SqrtScheduleParams,
        summary="DiffuSeq's sqrt schedule, abar(s) = 1 - sqrt(s + 1e-4) (the DiffuSeq default)",
    )
    register(
        "linear",
        build_linear_schedule,
        params=LinearScheduleParams,
        summary="DDPM/iDDPM linear betas, rescaled by 1000 / num_timesteps",
    )
    register(
        "cosine",
        build_cosine_schedule,
        params=CosineScheduleParams,
        summary="iDDPM cosine schedule, abar(s) = cos^2((s + 0.008) / 1.008 * pi / 2)",
    )

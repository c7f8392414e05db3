"""Built-in noise schedules (one file each) and their registration hook."""

from __future__ import annotations

from dlmkit.hookspecs import Register, hookimpl
from dlmkit.schedules.cosine import CosineScheduleParams, build_cosine_schedule
from dlmkit.schedules.discrete import DiscreteSchedule
from dlmkit.schedules.linear import LinearScheduleParams, build_linear_schedule
from dlmkit.schedules.pw_lin import PwLinScheduleParams, build_pw_lin_schedule
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.schedules.trunc_cos import TruncCosScheduleParams, build_trunc_cos_schedule
from dlmkit.schedules.trunc_lin import TruncLinScheduleParams, build_trunc_lin_schedule

__all__ = [
    "CosineScheduleParams",
    "DiscreteSchedule",
    "LinearScheduleParams",
    "PwLinScheduleParams",
    "SqrtScheduleParams",
    "TruncCosScheduleParams",
    "TruncLinScheduleParams",
    "build_cosine_schedule",
    "build_linear_schedule",
    "build_pw_lin_schedule",
    "build_sqrt_schedule",
    "build_trunc_cos_schedule",
    "build_trunc_lin_schedule",
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
    register(
        "trunc_cos",
        build_trunc_cos_schedule,
        params=TruncCosScheduleParams,
        summary="DiffuSeq's truncated cosine, abar(s) = cos^2((s + 0.1) / 1.1 * pi / 2), first beta 1 - abar(0)",
    )
    register(
        "trunc_lin",
        build_trunc_lin_schedule,
        params=TruncLinScheduleParams,
        summary="DiffuSeq's truncated linear: iDDPM's rescaled linear betas + 0.01",
    )
    register(
        "pw_lin",
        build_pw_lin_schedule,
        params=PwLinScheduleParams,
        summary="DiffuSeq's piecewise linear: 10 falling betas, then the rescaled linear ramp",
    )

"""Selectable per-sample weightings for fake-score (DSM), generator and discriminator losses.

All weights are in x0 space and detached.  ``one`` reproduces DiffuSeq's own x0-MSE; ``snr`` turns
x0-MSE into eps-MSE; ``edm`` is EDM's ``lambda(sigma) = SNR_t + 1/sigma_data^2``.  ``sid_legacy`` is
SiD's data-dependent normaliser ``1 / max(mean_m|x_g - A|, 1e-5)`` and needs the teacher prediction,
so it is a generator weighting only.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor

from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.objectives.generator_view import GeneratorView
from dlmkit.objectives.masking import masked_mean

TimeWeighting = Literal["one", "snr", "snr_sqrt", "edm"]
GeneratorWeighting = Literal["sid_legacy", "one", "snr", "snr_sqrt", "edm"]

TIME_WEIGHTINGS: tuple[str, ...] = get_args(TimeWeighting)
GENERATOR_WEIGHTINGS: tuple[str, ...] = get_args(GeneratorWeighting)

SID_LEGACY_FLOOR = 1e-5
"""SiD clips the normaliser here so a generator that already matches the teacher does not blow up."""


def signal_to_noise(schedule: NoiseSchedule, t: Tensor) -> Tensor:
    """``SNR_t = abar_t / (1 - abar_t)`` per sample in float64, indexed where the schedule keeps its table."""
    table = schedule.alphas_cumprod
    abar = table[t.to(table.device).long()].to(torch.float64)
    return abar / (1.0 - abar).clamp_min(torch.finfo(torch.float64).tiny)


def time_weight(name: str, schedule: NoiseSchedule, t: Tensor, like: Tensor, sigma_data: float = 0.5) -> Tensor:
    """The weight of each sample at integer timesteps ``t`` ``[B]``, in ``like``'s dtype, ``[B]``."""
    if name == "one":
        return torch.ones(t.shape, dtype=like.dtype, device=like.device)
    if name == "snr":
        weight = signal_to_noise(schedule, t)
    elif name == "snr_sqrt":
        weight = signal_to_noise(schedule, t).sqrt()
    elif name == "edm":
        weight = signal_to_noise(schedule, t) + 1.0 / sigma_data**2
    else:
        raise ValueError(f"unknown time weighting '{name}'; choose one of {', '.join(TIME_WEIGHTINGS)}")
    return weight.to(dtype=like.dtype, device=like.device)


def generator_weight(name: str, schedule: NoiseSchedule, view: GeneratorView, sigma_data: float = 0.5) -> Tensor:
    """SiD's ``w`` per sample ``[B]``, detached; ``sid_legacy`` needs the view's teacher prediction (A)."""
    if name != "sid_legacy":
        return time_weight(name, schedule, view.t, view.x_gen, sigma_data)
    if view.teacher_pred is None:
        raise ValueError("the 'sid_legacy' weighting needs the teacher's x0 prediction")
    with torch.no_grad():
        gap = masked_mean((view.x_gen - view.teacher_pred).abs(), view.weights)
        return 1.0 / gap.clamp_min(SID_LEGACY_FLOOR)

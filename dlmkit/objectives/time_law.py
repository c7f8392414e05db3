"""The distribution of the noise levels a distill stage trains at (its ``time_law``).

``uniform`` draws integer timesteps uniformly in ``[t_min, t_max]`` (SiD-LSG's and DLM-One's VP
form).  ``karras`` is SiD-EDM's law carried to a discrete schedule: a uniform ``u`` through Karras'
rho = 7 ramp between the EDM sigmas of ``t_min`` and ``t_max``, then the nearest timestep.  The ramp
is dense at low sigma compared with a uniform sigma, but DiffuSeq's sqrt schedule already spends
most of its timesteps at moderate noise: over ``[0, 1976]`` the median sigma is 1.54 under ``uniform``
and 1.91 under ``karras``, so on that schedule ``karras`` shifts draws toward *higher* noise.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor

from dlmkit.interfaces.schedule import NoiseSchedule

TimeLaw = Literal["uniform", "karras"]
TIME_LAWS: tuple[str, ...] = get_args(TimeLaw)

KARRAS_RHO = 7.0
SIGMA_FLOOR = 2e-3
"""EDM's ``sigma_min``: a ``t_min`` of 0 has sigma 0, which the ramp's ``1/rho`` power cannot start from."""


def edm_sigmas(schedule: NoiseSchedule) -> Tensor:
    """``sigma_edm(t) = sqrt((1 - abar_t) / abar_t)`` for every timestep, float64 on the CPU (increasing in t)."""
    abar = schedule.alphas_cumprod.detach().to("cpu", torch.float64)
    return ((1.0 - abar) / abar.clamp_min(torch.finfo(torch.float64).tiny)).sqrt()


def karras_timesteps(schedule: NoiseSchedule, batch: int, t_min: int, t_max: int, generator: torch.Generator) -> Tensor:
    """``batch`` timesteps in ``[t_min, t_max]`` from the Karras ramp over the schedule's EDM sigmas (CPU int64)."""
    sigmas = edm_sigmas(schedule)
    lo = float(sigmas[t_min].clamp_min(SIGMA_FLOOR)) ** (1.0 / KARRAS_RHO)
    hi = float(sigmas[t_max].clamp_min(SIGMA_FLOOR)) ** (1.0 / KARRAS_RHO)
    u = torch.rand(batch, generator=generator, device=generator.device, dtype=torch.float64).cpu()
    sigma = (lo + u * (hi - lo)) ** KARRAS_RHO
    t = torch.searchsorted(sigmas.contiguous(), sigma).clamp(t_min, t_max)
    return t.long()


def draw_stage_timesteps(
    law: str,
    schedule: NoiseSchedule,
    batch: int,
    t_min: int,
    t_max: int,
    generator: torch.Generator,
    device: torch.device,
) -> Tensor:
    """A distill stage's timesteps under ``law``, on ``device``."""
    if law == "uniform":
        return schedule.sample_timesteps(batch, t_min, t_max, generator=generator, device=device)
    if law == "karras":
        return karras_timesteps(schedule, batch, t_min, t_max, generator).to(device)
    raise ValueError(f"unknown time law '{law}'; choose one of {', '.join(TIME_LAWS)}")

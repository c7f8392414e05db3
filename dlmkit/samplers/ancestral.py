"""DiffuSeq's official ancestral sampler (``p_sample_loop``): the teacher's 2000-step decoding.

Each step predicts ``x0``, rounds it to the nearest word embedding, takes the posterior mean
``coef1 x0 + coef2 x_t``, adds noise with the "fixed large" variance and puts the clean
condition back.  Only the current state is kept (the official loop keeps all 2000).

With ``steps < T`` the chain runs on iDDPM respaced timesteps (``space_timesteps(T, [steps])``:
evenly spaced with rounding, ``0`` and ``T-1`` included) with betas re-derived so every kept
step keeps its ``abar``; the network still sees the original timestep.  The official decoder
cannot reach this path (its ``--step`` means the DDIM-gap loop, see ``ddim_gap``).
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import torch
from torch import Tensor

from dlmkit.errors import UserError
from dlmkit.interfaces.dataset import Batch
from dlmkit.interfaces.sampler import NoiseSource
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.teacher import Denoiser
from dlmkit.samplers.condition import AnchoredCondition
from dlmkit.samplers.rounding_rule import rounds_at
from dlmkit.samplers.validation import check_inputs, check_steps
from dlmkit.schedules.respace import respace, space_timesteps


def _optional_steps(instance: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or value < 2):
        raise ValueError(f"'steps' must be an integer >= 2 or absent (all timesteps), got {value!r}")


#: Below this a truncated draw is almost always rejected (P(|z| < 0.05) = 4%) and redrawing would not end.
MIN_TOP_P = 0.05


def _top_p_that_ends(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if math.isnan(value) or math.isinf(value) or 0.0 < value < MIN_TOP_P:
        raise ValueError(
            f"'top_p' must be <= 0 (off) or a finite value >= {MIN_TOP_P} (noise beyond it is redrawn, and below "
            f"{MIN_TOP_P} almost every draw would be), got {value}"
        )


@attrs.frozen
class AncestralParams:
    """``clamp_step``/``clamp_first`` are DiffuSeq's: round where ``t >= clamp_step`` (or ``<=`` if not first).

    ``top_p > 0`` redraws noise entries whose magnitude exceeds it (DiffuSeq's ``--top_p``; off
    by default).  ``clamp_step`` is compared with the original timestep, also when respaced.
    """

    steps: int | None = attrs.field(default=None, validator=_optional_steps)
    clamp_step: int = attrs.field(default=0, validator=[attrs.validators.instance_of(int), attrs.validators.ge(0)])
    clamp_first: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    rounding: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    top_p: float = attrs.field(default=-1.0, converter=float, validator=_top_p_that_ends)


def truncated_step_noise(noise: NoiseSource, index: int, like: Tensor, top_p: float) -> Tensor:
    """Step noise with every ``|value| > top_p`` redrawn until none is left (DiffuSeq's order of draws)."""
    eps = noise.step(index, like.shape, like)
    if top_p <= 0:
        return eps
    eps = eps.clone()
    reject = eps.abs() > top_p
    while bool(reject.any()):
        eps[reject] = noise.step(index, torch.Size([int(reject.sum())]), like)
        reject = eps.abs() > top_p
    return eps


class AncestralSampler:
    """``p_sample_loop`` of DiffuSeq with ``clamp_first`` rounding; ``nfe()`` = steps (default ``T``)."""

    name = "ancestral"

    def __init__(self, params: AncestralParams | None = None) -> None:
        self.params = params if params is not None else AncestralParams()
        self._last_num_timesteps: int | None = None

    def nfe(self, num_timesteps: int | None = None) -> int:
        """Network calls per sequence; with ``steps`` unset that is ``T`` (given, or of the last run)."""
        if self.params.steps is not None:
            return self.params.steps
        total = num_timesteps if num_timesteps is not None else self._last_num_timesteps
        if total is None:
            raise UserError("ancestral sampler: nfe() is T when steps is unset; pass num_timesteps or sample first")
        return total

    def rounds_at(self, t: int) -> bool:
        return rounds_at(t, self.params.clamp_step, self.params.clamp_first, self.params.rounding)

    @torch.no_grad()
    def sample(self, model: Denoiser, batch: Batch, schedule: NoiseSchedule, noise: NoiseSource) -> Tensor:
        check_inputs(self.name, model, batch, schedule)
        T = schedule.num_timesteps
        steps = self.params.steps if self.params.steps is not None else T
        check_steps(self.name, steps, schedule, minimum=2)
        self._last_num_timesteps = T
        chain: NoiseSchedule = schedule
        timestep_map = list(range(T))
        if steps < T:
            chain, kept = respace(schedule, space_timesteps(T, [steps]))
            timestep_map = kept.tolist()
        # "Fixed large": beta_t as variance, t = 0 borrowing the posterior variance of t = 1.
        log_variance = torch.cat([chain.posterior_variance[1:2], chain.betas[1:]]).log()

        cond = AnchoredCondition.from_batch(model, batch)
        x = cond.anchor(noise.initial(cond.shape, cond.embedding))
        for index, i in enumerate(reversed(range(chain.num_timesteps))):
            t = cond.timesteps(i)
            original = timestep_map[i]
            x0 = model.denoise(x, cond.timesteps(original))
            if self.rounds_at(original):
                x0 = model.embed(model.round(x0))
            mean = chain.q_posterior_mean(x0, x, t)
            # Drawn at t = 0 too (and then unused), so the random stream matches the official loop.
            eps = truncated_step_noise(noise, index, x, self.params.top_p)
            if i > 0:
                mean = mean + torch.exp(0.5 * chain.extract(log_variance, t, x)) * eps
            x = cond.anchor(mean)
        return cond.output_ids(model, x)

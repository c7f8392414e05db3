"""A correct DDIM sampler over ``steps`` evenly spaced timesteps from ``T-1`` (or ``t_start``) down to ``0``.

Unlike the official ``--step`` path (``ddim_gap``), each update jumps to the next visited
timestep and the last one lands on ``abar_prev = 1``, so the chain ends on a clean estimate.
Rounding every ``x0`` prediction to the nearest embedding is on by default, as DiffuSeq does;
``clamp_step`` / ``clamp_first`` limit it to the noisy (or the clean) end of the chain, as DiffuSeq's keys do.
With ``t_start`` the chain starts where the one-step student starts, ``q_sample(0, t_start, noise)``,
so deterministic DDIM (``eta = 0``, unrounded) is the teacher's own map from the student's input: the
target of the distill stage's regression term.
"""

from __future__ import annotations

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
from dlmkit.samplers.validation import check_inputs, check_steps, check_timestep


@attrs.frozen
class DDIMParams:
    """``eta = 0`` is deterministic DDIM; ``eta = 1`` matches the ancestral posterior variance."""

    steps: int = attrs.field(default=50, validator=[attrs.validators.instance_of(int), attrs.validators.ge(1)])
    eta: float = attrs.field(default=0.0, converter=float, validator=attrs.validators.ge(0.0))
    round_every_step: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    t_start: int | None = attrs.field(
        default=None, validator=attrs.validators.optional([attrs.validators.instance_of(int), attrs.validators.ge(0)])
    )
    """Start at this timestep from ``q_sample(0, t_start, noise)`` (the one-step student's start) instead of
    at ``T-1`` from pure noise; unset, the usual DDIM."""
    clamp_step: int = attrs.field(default=0, validator=[attrs.validators.instance_of(int), attrs.validators.ge(0)])
    """With rounding on, round only at visited timesteps ``t >= clamp_step`` (``<=`` without ``clamp_first``).
    On the QQP teacher, rounding at ``t >= 1000`` alone keeps 95% of the full rounding's BLEU at half its
    repeated words, 4.4% against 8.8% (docs/results.md, QQP, eleventh round)."""
    clamp_first: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))


class DDIMSampler:
    """Deterministic (``eta = 0``) or stochastic DDIM; ``nfe()`` = ``steps``."""

    name = "ddim"

    def __init__(self, params: DDIMParams | None = None) -> None:
        self.params = params if params is not None else DDIMParams()

    def nfe(self, num_timesteps: int | None = None) -> int:
        """A fixed count: the schedule's length does not change it."""
        return self.params.steps

    def timesteps(self, num_timesteps: int) -> list[int]:
        """``round(linspace(first, 0, steps))``, ``first`` = ``T-1`` or ``t_start``: distinct (spacing >= 1)."""
        steps, first = self.params.steps, self.first_timestep(num_timesteps)
        if steps > first + 1:
            raise UserError(f"[sampler] steps = {steps} exceeds the {first + 1} timesteps from {first} down (ddim)")
        if steps == 1:
            return [first]
        return [round(first * (steps - 1 - k) / (steps - 1)) for k in range(steps)]

    def first_timestep(self, num_timesteps: int) -> int:
        return num_timesteps - 1 if self.params.t_start is None else self.params.t_start

    @torch.no_grad()
    def sample(self, model: Denoiser, batch: Batch, schedule: NoiseSchedule, noise: NoiseSource) -> Tensor:
        cond = AnchoredCondition.from_batch(model, batch)
        return cond.output_ids(model, self.final_state(model, batch, schedule, noise, cond))

    @torch.no_grad()
    def final_state(
        self,
        model: Denoiser,
        batch: Batch,
        schedule: NoiseSchedule,
        noise: NoiseSource,
        cond: AnchoredCondition | None = None,
    ) -> Tensor:
        """The chain's clean end ``[B, L, D]`` (embeddings, before the LM head), condition anchored."""
        check_inputs(self.name, model, batch, schedule)
        check_steps(self.name, self.params.steps, schedule)
        if self.params.t_start is not None:
            check_timestep(self.name, "t_start", self.params.t_start, schedule)
        visited = self.timesteps(schedule.num_timesteps)
        abar = schedule.alphas_cumprod.to(torch.float64)
        # abar of the next visited step, 1 after the last: the chain ends at a clean x0.
        abar_next = torch.cat([abar[torch.tensor(visited[1:], dtype=torch.long)], torch.ones(1, dtype=torch.float64)])
        eta = self.params.eta

        cond = cond if cond is not None else AnchoredCondition.from_batch(model, batch)
        x = noise.initial(cond.shape, cond.embedding)
        if self.params.t_start is not None:
            x = schedule.q_sample(torch.zeros_like(x), cond.timesteps(self.params.t_start), x)
        x = cond.anchor(x)
        for index, step in enumerate(visited):
            t = cond.timesteps(step)
            x0 = model.denoise(x, t)
            if rounds_at(step, self.params.clamp_step, self.params.clamp_first, self.params.round_every_step):
                x0 = model.embed(model.round(x0))
            eps = schedule.predict_eps_from_x0(x, t, x0)
            abar_t = schedule.extract(abar, t, x)
            abar_prev = schedule.extract(abar_next, cond.timesteps(index), x)
            x = x0 * abar_prev.sqrt()
            if eta > 0:
                sigma = eta * ((1 - abar_prev) / (1 - abar_t)).sqrt() * (1 - abar_t / abar_prev).sqrt()
                x = x + (1 - abar_prev - sigma**2).clamp_min(0).sqrt() * eps
                x = x + sigma * noise.step(index, x.shape, x)
            else:
                x = x + (1 - abar_prev).sqrt() * eps
            x = cond.anchor(x)
        return x

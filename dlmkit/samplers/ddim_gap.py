"""The official DiffuSeq ``--step N`` decoding (N < T): DDIM with a gap, replicated quirks and all.

Visited timesteps are ``range(T)[::-1][::gap]`` with ``gap = T // N`` (e.g. N = 100: 1999,
1979, ..., 19), but every update uses ``abar_prev = abar_{t-1}`` (one step back, 1 at t = 0)
instead of the next visited step, so the loop ends at ``t = gap - 1`` on a partly noised state.
``x0`` is rounded at every step, ``eta = 0``, and fresh noise is still drawn each step (and
multiplied by zero) so the random stream matches the official loop.  This is why official
few-step numbers collapse; use ``ddim`` for a correct few-step teacher.
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
from dlmkit.samplers.validation import check_inputs, check_steps


@attrs.frozen
class DDIMGapParams:
    """``steps`` is the official ``--step`` value."""

    steps: int = attrs.field(default=100, validator=[attrs.validators.instance_of(int), attrs.validators.ge(1)])


class DDIMGapSampler:
    """``ddim_sample_loop`` as ``sample_seq2seq.py`` calls it; ``nfe(T)`` = ``ceil(T / gap)``."""

    name = "ddim_gap"

    def __init__(self, params: DDIMGapParams | None = None) -> None:
        self.params = params if params is not None else DDIMGapParams()
        self._last_num_timesteps: int | None = None

    def timesteps(self, num_timesteps: int) -> list[int]:
        steps = self.params.steps
        if steps > num_timesteps:
            raise UserError(f"[sampler] steps = {steps} exceeds the schedule's {num_timesteps} timesteps (ddim_gap)")
        gap = num_timesteps // steps
        return list(range(num_timesteps - 1, -1, -gap))

    def nfe(self, num_timesteps: int | None = None) -> int:
        """``steps`` when it divides ``T``; otherwise the gap visits ``ceil(T / gap)`` timesteps."""
        total = num_timesteps if num_timesteps is not None else self._last_num_timesteps
        return self.params.steps if total is None else len(self.timesteps(total))

    @torch.no_grad()
    def sample(self, model: Denoiser, batch: Batch, schedule: NoiseSchedule, noise: NoiseSource) -> Tensor:
        check_inputs(self.name, model, batch, schedule)
        check_steps(self.name, self.params.steps, schedule)
        self._last_num_timesteps = schedule.num_timesteps
        cond = AnchoredCondition.from_batch(model, batch)
        x = cond.anchor(noise.initial(cond.shape, cond.embedding))
        for index, step in enumerate(self.timesteps(schedule.num_timesteps)):
            t = cond.timesteps(step)
            x0 = model.embed(model.round(model.denoise(x, t)))
            eps = schedule.predict_eps_from_x0(x, t, x0)
            abar_prev = schedule.extract(schedule.alphas_cumprod_prev, t, x)
            noise.step(index, x.shape, x)  # drawn and discarded: eta = 0, kept for the official random stream
            x = cond.anchor(x0 * abar_prev.sqrt() + (1 - abar_prev).sqrt() * eps)
        return cond.output_ids(model, x)

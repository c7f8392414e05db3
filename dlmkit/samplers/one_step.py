"""The DLM-One student sampler: one network call at a fixed noise level (distillation.md §6.0).

``x_init = (1-m) E(c) + m (s_{t*} zeta)`` is what ``q_sample(0, t*, zeta)`` gives on the target
(SiD-LSG's ``add_noise(0, zeta, t*)``), with the clean condition on the rest; the student's
``x0`` prediction then has its condition part replaced by the true condition embedding.
The default ``t* = 1490`` is where ``sigma_edm = sqrt((1-abar)/abar)`` is 2.5 on the sqrt
schedule, the EDM ``init_sigma`` of SiD, and the value DLM-One uses.
"""

from __future__ import annotations

import attrs
import torch
from torch import Tensor

from dlmkit.interfaces.dataset import Batch
from dlmkit.interfaces.injector import ConditioningInjector
from dlmkit.interfaces.sampler import NoiseSource
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.teacher import Denoiser
from dlmkit.samplers.condition import AnchoredCondition
from dlmkit.samplers.validation import check_inputs, check_timestep


@attrs.frozen
class OneStepParams:
    t_init: int = attrs.field(default=1490, validator=[attrs.validators.instance_of(int), attrs.validators.ge(0)])


class OneStepSampler:
    """Generate with a one-step student; ``generate`` keeps the graph, so trainers can reuse it."""

    name = "one_step"

    def __init__(self, params: OneStepParams | None = None) -> None:
        self.params = params if params is not None else OneStepParams()

    def nfe(self, num_timesteps: int | None = None) -> int:
        """A fixed count: the schedule's length does not change it."""
        return 1

    def initial_state(self, cond: AnchoredCondition, schedule: NoiseSchedule, zeta: Tensor) -> Tensor:
        t = cond.timesteps(self.params.t_init)
        return cond.anchor(schedule.q_sample(torch.zeros_like(zeta), t, zeta))

    def generate(
        self,
        model: Denoiser,
        batch: Batch,
        schedule: NoiseSchedule,
        zeta: Tensor,
        injector: ConditioningInjector | None = None,
    ) -> Tensor:
        """The student's output embeddings ``x_g`` ``[B, L, D]`` for noise ``zeta`` (differentiable).

        The one one-step path: distillation trains through it and sampling rounds it.  Distillation
        passes its ``injector``, which decides what the losses see on the condition positions (DLM-One:
        the true condition embedding); without one the condition is anchored, as every sampler does.
        The tokens are the same either way: the LM head reads each position on its own.
        """
        check_inputs(self.name, model, batch, schedule)
        check_timestep(self.name, "t_init", self.params.t_init, schedule)
        cond = AnchoredCondition.from_batch(model, batch)
        x_init = self.initial_state(cond, schedule, zeta.to(cond.embedding.dtype))
        raw = model.denoise(x_init, cond.timesteps(self.params.t_init))
        if injector is None:
            return cond.anchor(raw)
        x_cond = torch.where(cond.keep, cond.embedding, torch.zeros_like(cond.embedding))
        return injector.generated(raw, x_cond.to(raw.dtype), batch.input_mask)

    @torch.no_grad()
    def sample(self, model: Denoiser, batch: Batch, schedule: NoiseSchedule, noise: NoiseSource) -> Tensor:
        cond = AnchoredCondition.from_batch(model, batch)
        x_g = self.generate(model, batch, schedule, noise.initial(cond.shape, cond.embedding))
        return cond.output_ids(model, x_g)

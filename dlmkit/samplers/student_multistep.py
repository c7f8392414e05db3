"""Multi-step use of a one-step student (DLM-One Table 4): re-noise its output and denoise again.

The first call is the one-step sampler at ``t_init``.  Step ``k`` (k = 1..steps-1) re-noises the
current estimate with ``q_sample`` at ``t_k = round(t_init (steps - k) / steps)`` and lets the
student denoise it, the condition kept clean throughout.  The paper does not give its times;
evenly spaced timesteps below ``t_init`` (1490, 745 for 2 steps; 1490, 1118, 745, 372 for 4)
are the plain choice, each re-noising weaker than the last as the estimate improves.
"""

from __future__ import annotations

from typing import Any

import attrs
import torch
from torch import Tensor

from dlmkit.interfaces.dataset import Batch
from dlmkit.interfaces.injector import ConditioningInjector
from dlmkit.interfaces.sampler import NoiseSource
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.teacher import Denoiser
from dlmkit.samplers.condition import AnchoredCondition
from dlmkit.samplers.one_step import OneStepParams, OneStepSampler


def _fits_below_t_init(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value > max(1, instance.t_init):
        raise ValueError(
            f"steps ({value}) must not exceed t_init ({instance.t_init}): the re-noising times would repeat"
        )


@attrs.frozen
class StudentMultistepParams:
    t_init: int = attrs.field(default=1490, validator=[attrs.validators.instance_of(int), attrs.validators.ge(0)])
    steps: int = attrs.field(
        default=2, validator=[attrs.validators.instance_of(int), attrs.validators.ge(1), _fits_below_t_init]
    )


class StudentMultistepSampler:
    """``steps`` student calls with re-noising in between; ``nfe()`` = steps."""

    name = "student_multistep"

    def __init__(self, params: StudentMultistepParams | None = None) -> None:
        self.params = params if params is not None else StudentMultistepParams()
        self._first = OneStepSampler(OneStepParams(t_init=self.params.t_init))

    def nfe(self, num_timesteps: int | None = None) -> int:
        """A fixed count: the schedule's length does not change it."""
        return self.params.steps

    def generate(
        self,
        model: Denoiser,
        batch: Batch,
        schedule: NoiseSchedule,
        zeta: Tensor,
        injector: ConditioningInjector | None = None,
    ) -> Tensor:
        """The first call alone, with the graph: the one-step generator a distill stage trains."""
        return self._first.generate(model, batch, schedule, zeta, injector)

    def timesteps(self) -> list[int]:
        steps, t_init = self.params.steps, self.params.t_init
        return [round(t_init * (steps - k) / steps) for k in range(steps)]

    @torch.no_grad()
    def sample(self, model: Denoiser, batch: Batch, schedule: NoiseSchedule, noise: NoiseSource) -> Tensor:
        cond = AnchoredCondition.from_batch(model, batch)
        x = self._first.generate(model, batch, schedule, noise.initial(cond.shape, cond.embedding))
        for index, step in enumerate(self.timesteps()[1:]):
            t = cond.timesteps(step)
            x_t = schedule.q_sample(x, t, noise.step(index, x.shape, x))
            x = cond.anchor(model.denoise(cond.anchor(x_t), t))
        return cond.output_ids(model, x)

"""The distillation-objective contract.  The trainer knows objectives only through this."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import attrs
import torch
from torch import Tensor

from dlmkit.interfaces.injector import ConditioningInjector
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.teacher import Denoiser


@attrs.frozen
class LossOutput:
    """A loss to back-propagate and the named scalar terms to log."""

    loss: Tensor
    terms: dict[str, float] = attrs.field(factory=dict)


@attrs.define
class DistillContext:
    """What an objective may use in one update.

    ``x_gen`` is the generator output after the injector's ``generated`` step (with the graph
    to the generator on generator updates, detached on psi updates).  ``x_real`` is the clean
    embedding of real pairs from the data.  ``mask`` is 1 on target positions.
    """

    teacher: Denoiser
    psi: Denoiser
    schedule: NoiseSchedule
    injector: ConditioningInjector
    mask: Tensor
    x_gen: Tensor
    x_real: Tensor
    real_mask: Tensor
    sample_t: Callable[[int], Tensor]
    generator: torch.Generator | None = None

    def noise_like(self, x: Tensor) -> Tensor:
        return torch.randn(x.shape, generator=self.generator, device=x.device, dtype=x.dtype)

    def noised(self, x0: Tensor, t: Tensor, eps: Tensor, mask: Tensor) -> Tensor:
        """Forward-noise the target positions, then let the injector restore the condition."""
        return self.injector.noised(self.schedule.q_sample(x0, t, eps, mask), x0, mask)


@runtime_checkable
class Objective(Protocol):
    """A distillation objective: a loss for the fake-score network psi and one for the generator.

    ``generator_every`` is the two-time-scale ratio: one generator update after every
    ``generator_every`` psi updates (1 for SiD, 5 or 10 for DMD2).  ``uses_real_data`` tells the
    trainer to draw real pairs.
    """

    generator_every: int
    uses_real_data: bool

    def psi_loss(self, ctx: DistillContext) -> LossOutput: ...

    def generator_loss(self, ctx: DistillContext) -> LossOutput: ...

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
from dlmkit.randomness import randn_like

#: A number to log: a float, or a 0-d tensor left on its device (read once, when a log line is written, so a
#: GPU is not stopped for every term of every update).
Scalar = float | Tensor


@attrs.frozen
class LossOutput:
    """A loss to back-propagate and the named scalar terms to log (floats or detached 0-d tensors)."""

    loss: Tensor
    terms: dict[str, Scalar] = attrs.field(factory=dict)


@attrs.define
class DistillContext:
    """What an objective may use in one update.

    ``x_gen`` is the generator output after the injector's ``generated`` step (with the graph
    to the generator on generator updates, detached on psi updates).  ``x_real`` is the clean
    embedding of real pairs from the data.  ``mask`` is 1 on target positions.  ``discriminator``
    maps psi's last hidden states ``[B, L, H]`` to per-token logits ``[B, L]`` (psi's head, trained with
    psi).  ``fp32_scores`` asks the generator's loss to run the teacher and psi in fp32 under a
    reduced-precision autocast, because SiD's signal ``A - B`` is small next to bf16 rounding.
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
    discriminator: Callable[[Tensor], Tensor] | None = None
    fp32_scores: bool = True

    def logits(self, hidden: Tensor) -> Tensor:
        """Per-token discriminator logits ``[B, L]`` from psi's hidden states."""
        if self.discriminator is None:
            raise ValueError("this objective needs psi's discriminator head, but the context has none")
        return self.discriminator(hidden)

    def noise_like(self, x: Tensor) -> Tensor:
        """Standard normal noise like ``x`` from the stage's stream (drawn on the stream's device, then moved)."""
        return randn_like(x, self.generator)

    def noised(self, x0: Tensor, t: Tensor, eps: Tensor, mask: Tensor) -> Tensor:
        """Forward-noise the target positions, then let the injector restore the condition."""
        return self.injector.noised(self.schedule.q_sample(x0, t, eps, mask), x0, mask)


@runtime_checkable
class Objective(Protocol):
    """A distillation objective: a loss for the fake-score network psi and one for the generator.

    ``generator_every`` is the two-time-scale ratio: one generator update after every
    ``generator_every`` psi updates (1 for SiD, 5 or 10 for DMD2).  ``uses_real_data`` tells the
    trainer to draw real pairs.  An objective may also say ``uses_discriminator = False`` when it never
    reads ``ctx.logits``: the stage then builds no discriminator head for psi (see ``uses_discriminator``).
    """

    generator_every: int
    uses_real_data: bool

    def psi_loss(self, ctx: DistillContext) -> LossOutput: ...

    def generator_loss(self, ctx: DistillContext) -> LossOutput: ...


def uses_discriminator(objective: object) -> bool:
    """Whether ``objective`` needs psi's discriminator head: its own ``uses_discriminator``, else True.

    The extra network an objective declares.  Optional, so objectives written before it existed keep
    working (they get the head, as every objective did); a stage builds, trains and saves the head only
    for objectives that use it.
    """
    return bool(getattr(objective, "uses_discriminator", True))

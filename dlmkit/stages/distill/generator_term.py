"""What an optional term of the distill stage's generator loss provides (a regression target, the repeat penalty)."""

from __future__ import annotations

from typing import Protocol

from torch import Tensor

from dlmkit.interfaces import Batch, Scalar


class GeneratorTerm(Protocol):
    """An optional term of the generator's loss (a regression target, the repeat penalty) for one batch:
    the weighted term and what to log, from the batch, the student's noise and its output."""

    def term(self, cond: Batch, z: Tensor, x_gen: Tensor) -> tuple[Tensor, dict[str, Scalar]]: ...

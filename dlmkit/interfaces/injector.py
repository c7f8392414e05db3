"""The conditioning-injector contract: how the condition enters what networks and losses see."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from torch import Tensor


@runtime_checkable
class ConditioningInjector(Protocol):
    """Puts the condition into a packed sequence.  ``mask`` is 1 on target positions.

    ``noised`` is applied after forward noising (DiffuSeq never noises the condition);
    ``generated`` is applied to a generator's output before any loss sees it.
    """

    def noised(self, x_t: Tensor, x0: Tensor, mask: Tensor) -> Tensor: ...

    def generated(self, x_gen: Tensor, x_cond: Tensor, mask: Tensor) -> Tensor: ...

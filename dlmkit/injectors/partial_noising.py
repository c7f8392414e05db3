"""DiffuSeq's partial noising: the condition is never noised; generator outputs pass through as they are."""

from __future__ import annotations

import attrs
import torch
from torch import Tensor

from dlmkit.injectors.positions import target_positions


@attrs.frozen
class PartialNoisingParams:
    """``partial_noising`` has no options; the class exists so recipes are checked for stray keys."""


def keep_condition(x: Tensor, x_cond: Tensor, mask: Tensor) -> Tensor:
    """``x`` on target positions, ``x_cond`` (exactly, no arithmetic) on condition positions."""
    return torch.where(target_positions(mask, x), x, x_cond)


class PartialNoising:
    """Anchor the condition after noising (DiffuSeq ``q_sample``), leave generated sequences alone.

    Leaving ``generated`` untouched is the ablation of DLM-One's condition replacement: the losses then
    see whatever the generator wrote over the condition.
    """

    def __init__(self, params: PartialNoisingParams | None = None) -> None:
        self.params = params or PartialNoisingParams()

    def noised(self, x_t: Tensor, x0: Tensor, mask: Tensor) -> Tensor:
        return keep_condition(x_t, x0, mask)

    def generated(self, x_gen: Tensor, x_cond: Tensor, mask: Tensor) -> Tensor:
        return x_gen


def build_partial_noising(params: PartialNoisingParams) -> PartialNoising:
    return PartialNoising(params)

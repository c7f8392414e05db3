"""A frozen copy of a network: its own weights, in eval mode, with no gradients."""

from __future__ import annotations

import copy
from typing import TypeVar

from torch import nn

M = TypeVar("M", bound=nn.Module)


def frozen_copy(module: M) -> M:
    """A deep copy of ``module`` that later training of ``module`` cannot change (EMA shadows, anchors)."""
    frozen = copy.deepcopy(module)
    frozen.eval()
    for p in frozen.parameters():
        p.requires_grad_(False)
    return frozen

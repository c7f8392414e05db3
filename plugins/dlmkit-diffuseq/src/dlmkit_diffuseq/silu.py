"""DiffuSeq's own SiLU, kept bit-exact (``F.silu`` can differ in the last bit)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class SiLU(nn.Module):
    """``x * sigmoid(x)`` spelled out as DiffuSeq does (``F.silu`` can differ in the last bit)."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(x)

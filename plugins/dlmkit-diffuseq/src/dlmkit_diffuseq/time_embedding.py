"""DiffuSeq's sinusoidal timestep features and its SiLU, written to give the same float32 numbers."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def timestep_embedding(t: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """``[B]`` model times to ``[B, dim]`` features, **cosines first** then sines.

    Frequencies are ``exp(-ln(max_period) * k / half)`` for ``k < half``; an odd ``dim`` gets a
    trailing zero column.  The layout matters: official checkpoints were trained on it.
    """
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half).to(t.device)
    args = t[:, None].float() * freqs[None]
    features = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        features = torch.cat([features, torch.zeros_like(features[:, :1])], dim=-1)
    return features


class SiLU(nn.Module):
    """``x * sigmoid(x)`` spelled out as DiffuSeq does (``F.silu`` can differ in the last bit)."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(x)

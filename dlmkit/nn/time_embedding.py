"""DiffuSeq's sinusoidal timestep features, shared by every teacher that conditions on model time."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def timestep_embedding(t: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """``[B]`` model times to ``[B, dim]`` features, **cosines first** then sines.

    Frequencies are ``exp(-ln(max_period) * k / half)`` for ``k < half``; an odd ``dim`` gets a
    trailing zero column.  The layout matters: official DiffuSeq checkpoints were trained on it.
    """
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half).to(t.device)
    args = t.reshape(-1, 1).float() * freqs[None]
    features = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        features = torch.cat([features, torch.zeros_like(features[:, :1])], dim=-1)
    return features

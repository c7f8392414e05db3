"""Learning-rate multipliers by step: DiffuSeq's linear decay, constant, cosine; optional warm-up."""

from __future__ import annotations

import math


def cosine_factor(progress: float) -> float:
    """Half a cosine from 1 at ``progress`` 0 to 0 at 1: the shape every cosine rate here follows."""
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def lr_factor(kind: str, step: int, total: int, warmup: int = 0) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based) of ``total``."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if kind == "linear":
        return 1.0 - progress
    if kind == "cosine":
        return cosine_factor(progress)
    return 1.0

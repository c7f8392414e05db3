"""iDDPM's discretization of a continuous ``abar(s)``, s in [0, 1], into ``T`` betas."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def _ratio_betas(num_timesteps: int, count: int, alpha_bar: Callable[[float], float], max_beta: float) -> list[float]:
    """``min(1 - abar((i+1)/T) / abar(i/T), max_beta)`` for ``i < count``, in Python floats as the reference."""
    return [
        min(1.0 - alpha_bar((i + 1) / num_timesteps) / alpha_bar(i / num_timesteps), max_beta) for i in range(count)
    ]


def betas_from_alpha_bar(num_timesteps: int, alpha_bar: Callable[[float], float], max_beta: float = 0.999) -> Tensor:
    """``beta_i = min(1 - abar((i+1)/T) / abar(i/T), max_beta)`` in float64.

    Computed in Python floats one step at a time, as the reference does, so values match it
    to the last bit; the clip matters where ``abar`` reaches 0 (or, for sqrt, goes negative).
    """
    return torch.tensor(_ratio_betas(num_timesteps, num_timesteps, alpha_bar, max_beta), dtype=torch.float64)


def betas_from_alpha_bar_from_zero(
    num_timesteps: int, alpha_bar: Callable[[float], float], max_beta: float = 0.999
) -> Tensor:
    """DiffuSeq's second rule (its ``betas_for_alpha_bar2``, used by ``trunc_cos``): the first beta is
    ``1 - abar(0)`` itself, then ``T - 1`` ratios as above, so ``abar`` need not be 1 at ``s = 0``."""
    first = min(1.0 - alpha_bar(0.0), max_beta)
    return torch.tensor(
        [first, *_ratio_betas(num_timesteps, num_timesteps - 1, alpha_bar, max_beta)], dtype=torch.float64
    )

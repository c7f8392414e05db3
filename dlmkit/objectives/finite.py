"""Dropping non-finite samples from a loss, as every SiD-family loss does.

A single sample whose prediction overflowed would otherwise turn the whole batch's loss into NaN.
Gradients of the dropped rows are zero upstream; the trainer still cleans parameter gradients.
"""

from __future__ import annotations

import torch
from torch import Tensor


def finite_sum(per_sample: Tensor) -> tuple[Tensor, Tensor]:
    """The sum of the finite entries of ``per_sample`` ``[B]`` and how many were dropped."""
    keep = torch.isfinite(per_sample)
    total = torch.where(keep, per_sample, torch.zeros_like(per_sample)).sum()
    return total, (~keep).sum()

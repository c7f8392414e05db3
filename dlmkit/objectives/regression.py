"""The regression term: the student's output against the teacher's deterministic map of the same input.

DMD's regression loss (Yin et al. 2024, §3.3): score terms push every sample along the same
direction at high noise, towards the teacher's blend of modes, so a one-step student can keep one
mode for every input.  Pairs ``(noise, teacher ODE from that noise)`` tie each input to the mode the
teacher's own flow sends it to, which fixes the mode proportions the score terms cannot.
"""

from __future__ import annotations

from torch import Tensor

from dlmkit.objectives.masking import masked_mean, target_weights


def regression_loss(x_gen: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean over samples of the per-element mean squared distance on target positions (0-d, fp32)."""
    weights = target_weights(mask, x_gen).float()
    return masked_mean((x_gen.float() - target.detach().float()).square(), weights).mean()

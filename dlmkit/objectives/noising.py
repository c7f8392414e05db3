"""Drawing timesteps and noise through the context, so objectives never hard-code a time law."""

from __future__ import annotations

import attrs
import torch
from torch import Tensor

from dlmkit.interfaces.objective import DistillContext


@attrs.frozen
class Noised:
    """One forward-noising draw: integer timesteps ``[B]``, the noise and the noised sequence."""

    t: Tensor
    eps: Tensor
    x_t: Tensor


def draw_timesteps(ctx: DistillContext, like: Tensor) -> Tensor:
    """The stage's timesteps for ``like``'s batch, as int64 on ``like``'s device."""
    return ctx.sample_t(like.shape[0]).to(device=like.device, dtype=torch.long)


def forward_noise(
    ctx: DistillContext, x0: Tensor, mask: Tensor, t: Tensor | None = None, eps: Tensor | None = None
) -> Noised:
    """Noise the target positions of ``x0`` (fresh ``t``/``eps`` unless given); the condition stays clean."""
    t = draw_timesteps(ctx, x0) if t is None else t
    eps = ctx.noise_like(x0) if eps is None else eps
    return Noised(t=t, eps=eps, x_t=ctx.noised(x0, t, eps, mask))

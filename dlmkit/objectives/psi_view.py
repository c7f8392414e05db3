"""What psi sees on its own update: a noised detached generator sample and, for GANs, a noised real pair.

One psi forward on the fake sample yields both the x0 prediction (for DSM) and the hidden states
(for the fake logits), so DSM and discriminator share it, as in SiDA.
"""

from __future__ import annotations

import attrs
from torch import Tensor

from dlmkit.errors import UserError
from dlmkit.interfaces.objective import DistillContext
from dlmkit.objectives.masking import target_weights
from dlmkit.objectives.noising import forward_noise


@attrs.frozen
class PsiView:
    """psi's outputs on one update.  ``weights`` is the fake target mask ``[B, L, 1]``."""

    t: Tensor
    x0: Tensor
    weights: Tensor
    pred: Tensor
    fake_logits: Tensor | None = None
    real_logits: Tensor | None = None
    real_t: Tensor | None = None
    real_weights: Tensor | None = None

    @property
    def fake_tokens(self) -> Tensor:
        """The generated sample's target mask per token, ``[B, L]``."""
        return self.weights[..., 0]

    @property
    def real_tokens(self) -> Tensor:
        """The real pair's target mask per token, ``[B, L]``."""
        if self.real_weights is None:
            raise ValueError("this psi view was made without real pairs (discriminate=False)")
        return self.real_weights[..., 0]


def psi_view(ctx: DistillContext, *, discriminate: bool, share_noise: bool = True) -> PsiView:
    """Run psi on a noised, detached ``ctx.x_gen`` (and on noised ``ctx.x_real`` when ``discriminate``).

    ``share_noise`` noises the real pair with the fake sample's ``t`` and ``eps`` (SiDA); otherwise
    the real pair gets its own draw (DMD2's independent Diffusion-GAN noising).
    """
    x0 = ctx.x_gen.detach()
    fake = forward_noise(ctx, x0, ctx.mask)
    weights = target_weights(ctx.mask, x0)
    if not discriminate:
        return PsiView(t=fake.t, x0=x0, weights=weights, pred=ctx.psi.denoise(fake.x_t, fake.t))
    pred, fake_hidden = ctx.psi.denoise_with_features(fake.x_t, fake.t)
    x_real = ctx.x_real.detach()
    if share_noise:
        if x_real.shape != x0.shape:
            raise UserError(
                f"real pairs of shape {tuple(x_real.shape)} cannot share noise with generated samples of shape "
                f"{tuple(x0.shape)}; draw real batches of the generator's batch size and length, "
                "or set share_noise = false"
            )
        real = forward_noise(ctx, x_real, ctx.real_mask, t=fake.t, eps=fake.eps)
    else:
        real = forward_noise(ctx, x_real, ctx.real_mask)
    _, real_hidden = ctx.psi.denoise_with_features(real.x_t, real.t)
    return PsiView(
        t=fake.t,
        x0=x0,
        weights=weights,
        pred=pred,
        fake_logits=ctx.logits(fake_hidden),
        real_logits=ctx.logits(real_hidden),
        real_t=real.t,
        real_weights=target_weights(ctx.real_mask, x_real),
    )

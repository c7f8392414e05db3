"""psi as a Diffusion-GAN discriminator: per-token logits from its last hidden states, and BCE losses.

No parameters are added: a logit is the mean of a token's hidden state (SiD-DiT's channel
pooling), clamped to ±10 as in SiDA so saturated logits cannot produce huge losses.  BCE is
written with softplus (``-log sig(l) = softplus(-l)``, ``-log(1 - sig(l)) = softplus(l)``) and
averaged per sample over target tokens only.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from dlmkit.objectives.masking import token_mean

LOGIT_CLAMP = 10.0


def token_logits(hidden: Tensor) -> Tensor:
    """Per-token logits ``[B, L]`` from hidden states ``[B, L, H]``."""
    return hidden.mean(-1).clamp(-LOGIT_CLAMP, LOGIT_CLAMP)


def real_bce(logits: Tensor, tokens: Tensor) -> Tensor:
    """``-log D``, mean over target tokens, ``[B]`` (log 2 at zero logits).

    The discriminator applies it to real samples; the generator's non-saturating loss applies it
    to its own samples (it wants them judged real).
    """
    return token_mean(F.softplus(-logits), tokens)


def fake_bce(logits: Tensor, tokens: Tensor) -> Tensor:
    """``-log(1 - D)`` on generated samples, mean over target tokens, ``[B]`` (log 2 at zero logits)."""
    return token_mean(F.softplus(logits), tokens)

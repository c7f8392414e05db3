"""psi as a Diffusion-GAN discriminator: per-token logits from a learned head on psi's last hidden states.

Why a learned head.  SiDA pools its UNet bottleneck over channels with no parameters, and the first
version of dlmkit did the same with psi's last hidden state.  That state leaves a LayerNorm, and the
channel mean of ``gamma * x_hat + beta`` is pinned to ``mean(beta) +- std(gamma)`` whatever the input:
on the shipped QQP teacher the logits stayed within [-0.085, 0.103] and real text and pure noise got
the same 0.01-0.04.  Pooling each channel over target tokens (SiD-DiT) escapes the pin but asks every
channel of the trunk to move together; a zero-initialised linear head (DMD2's choice, one vector of
psi's width) only has to find one direction.  Trained alone on fixed real and generated batches it
passes 90% accuracy within 150 updates (tests/test_discriminator_learns.py);
``benchmarks/discriminator_features.py`` compares the three choices side by side on any teacher.
Zero initialisation makes every logit 0 at the start, so the head sends
no gradient into psi's trunk until it has learned something, and psi's score is undisturbed.  The
head belongs to psi: it trains with psi's optimiser and is re-initialised with psi in stage 2.

Logits are clamped to ±10 as in SiDA.  BCE is written with softplus (``-log sig(l) = softplus(-l)``,
``-log(1 - sig(l)) = softplus(l)``) and averaged per sample over target tokens only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlmkit.interfaces.teacher import Denoiser
from dlmkit.objectives.masking import token_mean

LOGIT_CLAMP = 10.0
HEAD_FILE = "disc_head.safetensors"
"""The head's file beside a stage's ``psi.safetensors``."""


class DiscriminatorHead(nn.Module):
    """One logit per token: a linear map of psi's hidden state ``[B, L, H] -> [B, L]``, zero at the start."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.proj = nn.Linear(hidden_size, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, hidden: Tensor) -> Tensor:
        return self.proj(hidden)[..., 0].clamp(-LOGIT_CLAMP, LOGIT_CLAMP)


def feature_width(psi: Denoiser, seq_len: int, embed_dim: int, device: torch.device) -> int:
    """The width ``H`` of psi's hidden states, read from one tiny forward (the contract does not state it)."""
    x = torch.zeros(1, seq_len, embed_dim, device=device)
    t = torch.zeros(1, dtype=torch.long, device=device)
    with torch.no_grad():
        _, hidden = psi.denoise_with_features(x, t)
    return int(hidden.shape[-1])


def real_bce(logits: Tensor, tokens: Tensor) -> Tensor:
    """``-log D``, mean over target tokens, ``[B]`` (log 2 at zero logits).

    The discriminator applies it to real samples; the generator's non-saturating loss applies it
    to its own samples (it wants them judged real).
    """
    return token_mean(F.softplus(-logits), tokens)


def fake_bce(logits: Tensor, tokens: Tensor) -> Tensor:
    """``-log(1 - D)`` on generated samples, mean over target tokens, ``[B]`` (log 2 at zero logits)."""
    return token_mean(F.softplus(logits), tokens)


def accuracy(logits: Tensor, tokens: Tensor, *, real: bool) -> Tensor:
    """Share of target tokens judged correctly (real: logit > 0, generated: logit < 0; a tie counts half)."""
    detached = logits.detach().float()
    signed = detached if real else -detached
    correct = (signed > 0).float() + 0.5 * (signed == 0).float()
    return ((correct * tokens).sum() / tokens.sum().clamp_min(1.0)).detach()

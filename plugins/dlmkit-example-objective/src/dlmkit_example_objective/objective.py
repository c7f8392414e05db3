"""``SidMinSnr``: Score identity Distillation with a Min-SNR-gamma weight on every timestep.

SiD pushes the generator along the gap between the teacher's (A) and the fake-score network's
(B) x0 predictions on its own noised samples.  At heavy noise both predictions are close to the
mean embedding whatever the sample was, so their gap says little about the sample; Min-SNR-gamma
(Hang et al., 2023, for training diffusion models) caps the weight of light-noise steps and lets
it fall with the signal-to-noise ratio at heavy noise.  Here the weight is scaled to ``(0, 1]``
so that loss scales stay those of the built-in ``sid``.

Written against ``dlmkit.interfaces`` only: randomness comes from ``ctx.sample_t`` and
``ctx.noise_like``, noising from ``ctx.noised``, which is what makes runs reproducible and lets
the contract checks replay the draws.
"""

from __future__ import annotations

import torch
from torch import Tensor

from dlmkit.interfaces import DistillContext, LossOutput, NoiseSchedule, Scalar
from dlmkit.objectives.toolkit import finite_sum, masked_sum
from dlmkit_example_objective.params import SidMinSnrParams

NORMALISER_FLOOR = 1e-5
"""SiD's floor on ``mean_m |x_g - A|``, so a generator that already matches the teacher does not blow up."""


def min_snr_weight(schedule: NoiseSchedule, t: Tensor, gamma: float, like: Tensor) -> Tensor:
    """``min(SNR_t, gamma) / gamma`` per sample ``[B]``, with ``SNR_t = abar_t / (1 - abar_t)``."""
    abar = schedule.alphas_cumprod.to(t.device)[t.long()].to(torch.float64)
    snr = abar / (1.0 - abar).clamp_min(torch.finfo(torch.float64).tiny)
    return (snr.clamp(max=gamma) / gamma).to(dtype=like.dtype, device=like.device)


class SidMinSnr:
    """psi on (weighted) denoising score matching, the generator on the weighted SiD loss, 1:1 updates."""

    generator_every = 1
    uses_real_data = False
    uses_discriminator = False

    def __init__(self, params: SidMinSnrParams | None = None) -> None:
        self.params = params or SidMinSnrParams()

    def _noised(self, ctx: DistillContext, x0: Tensor) -> tuple[Tensor, Tensor]:
        t = ctx.sample_t(x0.shape[0]).to(device=x0.device, dtype=torch.long)
        return t, ctx.noised(x0, t, ctx.noise_like(x0), ctx.mask)

    def psi_loss(self, ctx: DistillContext) -> LossOutput:
        p = self.params
        x0 = ctx.x_gen.detach()
        weights = ctx.mask.unsqueeze(-1).to(x0.dtype)
        t, x_t = self._noised(ctx, x0)
        error = (ctx.psi.denoise(x_t, t) - x0).square()
        w = min_snr_weight(ctx.schedule, t, p.gamma, x0) if p.weight_psi else torch.ones_like(t, dtype=x0.dtype)
        total, dropped = finite_sum(w * masked_sum(error, weights))
        loss = p.lambda_psi * total / x0.shape[0]
        count = (weights.expand_as(x0).sum()).clamp_min(1.0)
        terms: dict[str, Scalar] = {
            "loss": loss.detach(),
            "dsm_mse": masked_sum(error.detach(), weights).sum() / count,
            "time_weight": w.mean(),
            "t_mean": t.float().mean(),
            "dropped": dropped,
        }
        return LossOutput(loss=loss, terms=terms)

    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        p = self.params
        x_g = ctx.x_gen
        weights = ctx.mask.unsqueeze(-1).to(x_g.dtype)
        t, x_t = self._noised(ctx, x_g)
        a = ctx.teacher.denoise(x_t, t)  # the graph runs through both networks' activations, not their weights
        b = ctx.psi.denoise(x_t, t)
        w = min_snr_weight(ctx.schedule, t, p.gamma, x_g)
        if p.normalise:
            with torch.no_grad():
                count = weights.expand_as(x_g).flatten(1).sum(1).clamp_min(1.0)
                gap = masked_sum((x_g - a).abs(), weights) / count
            w = w / gap.clamp_min(NORMALISER_FLOOR)
        diff = a - b
        gap_term = w * (1.0 - p.alpha) * masked_sum(diff.square(), weights)
        cross_term = w * masked_sum(diff * (b - x_g), weights)
        total, dropped = finite_sum(gap_term + cross_term)
        batch = x_g.shape[0]
        loss = p.lambda_g * total / batch
        terms: dict[str, Scalar] = {
            "loss": loss.detach(),
            "sid_gap": gap_term.detach().sum() / batch,
            "sid_cross": cross_term.detach().sum() / batch,
            "time_weight": min_snr_weight(ctx.schedule, t, p.gamma, x_g).mean().detach(),
            "t_mean": t.float().mean(),
            "dropped": dropped,
        }
        return LossOutput(loss=loss, terms=terms)


def build_sid_min_snr(params: SidMinSnrParams) -> SidMinSnr:
    """The registry factory."""
    return SidMinSnr(params)

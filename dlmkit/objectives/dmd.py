"""Distribution Matching Distillation, DMD2 style (spec §6.5).

The generator follows ``g = (B - A) / mean_m|x_g - A|`` computed without gradients through either
network, via the surrogate ``0.5 ||x_g - sg(x_g - g)||^2 / numel`` whose gradient is ``g / numel``.
psi learns the generator's score with per-element DSM and updates ``generator_every`` times per
generator update (two time-scale rule).  An optional GAN term (``gan_weight_g > 0``) adds DMD2's
discriminator on psi's features.
"""

from __future__ import annotations

import attrs
import torch
from attrs import validators as v

from dlmkit.interfaces.objective import DistillContext, LossOutput, Scalar
from dlmkit.objectives.adversarial import generator_adversarial_loss, generator_adversarial_terms
from dlmkit.objectives.dsm import dsm_loss
from dlmkit.objectives.gan import dmd2_discriminator_loss
from dlmkit.objectives.generator_view import generator_view
from dlmkit.objectives.instruments import psi_advantage
from dlmkit.objectives.masking import masked_mean
from dlmkit.objectives.params import boolean, non_negative, positive, update_ratio
from dlmkit.objectives.psi_view import psi_view
from dlmkit.objectives.weighting import TIME_WEIGHTINGS, TimeWeighting, generator_weight


@attrs.frozen
class DmdParams:
    """``[stage.objective]`` keys of ``dmd``.

    ``generator_every``: psi updates per generator update (DMD2: 5 for ImageNet/SDXL, 10 for SD1.5).
    ``gan_weight_g`` turns the GAN on when > 0 (DMD2: 1e-3 to 5e-3) and ``gan_weight_d`` weights the
    discriminator loss against psi's DSM (DMD2: 1e-2).  ``share_noise`` noises real pairs with the
    generated samples' ``t``/``eps`` instead of an independent draw.  The normaliser is floored at
    1e-5 like SiD's (DMD2 has no floor and relies on ``nan_to_num``).
    """

    generator_every: int = attrs.field(default=5, validator=update_ratio)
    dsm_weighting: TimeWeighting = attrs.field(default="one", validator=v.in_(TIME_WEIGHTINGS))
    sigma_data: float = attrs.field(default=0.5, validator=positive)
    gan_weight_g: float = attrs.field(default=0.0, validator=non_negative)
    gan_weight_d: float = attrs.field(default=1e-2, validator=non_negative)
    share_noise: bool = attrs.field(default=False, validator=boolean)


class Dmd:
    """DMD2's distribution-matching gradient with TTUR, optionally with its GAN term."""

    def __init__(self, params: DmdParams | None = None) -> None:
        self.params = params or DmdParams()
        self.generator_every = self.params.generator_every
        self.uses_real_data = self.uses_discriminator = self.params.gan_weight_g > 0.0

    def psi_loss(self, ctx: DistillContext) -> LossOutput:
        p = self.params
        view = psi_view(ctx, discriminate=self.uses_real_data, share_noise=p.share_noise)
        dsm = dsm_loss(view, ctx.schedule, p.dsm_weighting, p.sigma_data, per_element=True)
        loss = dsm.loss
        terms: dict[str, Scalar] = {"dsm": dsm.loss.detach(), "dsm_mse": dsm.mse, "dropped": dsm.dropped}
        if self.uses_real_data:
            disc_loss, disc_terms = dmd2_discriminator_loss(view, ctx)
            loss = loss + p.gan_weight_d * disc_loss
            terms.update(disc_terms)
        terms["loss"] = loss.detach()
        terms["t_mean"] = view.t.float().mean().detach()
        return LossOutput(loss=loss, terms=terms)

    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        p = self.params
        view = generator_view(ctx, teacher="detached", psi="detached", logits=self.uses_real_data)
        if view.teacher_pred is None or view.psi_pred is None:
            raise RuntimeError("generator_view did not run the teacher and psi")
        x_g = view.x_gen
        norm = generator_weight("sid_legacy", ctx.schedule, view)
        with torch.no_grad():
            grad = view.weights * (view.psi_pred - view.teacher_pred) * norm.reshape(-1, *([1] * (x_g.dim() - 1)))
            grad = torch.nan_to_num(grad)
        dm = 0.5 * (x_g - (x_g - grad).detach()).square().sum() / x_g.numel()
        loss = dm
        terms = {
            "dmd": dm.detach(),
            "dmd_grad": masked_mean(grad.abs(), view.weights).mean().detach(),
            "dmd_norm": norm.mean().detach(),
            "t_mean": view.t.float().mean().detach(),
            **psi_advantage(view),
        }
        if self.uses_real_data:
            ones = torch.ones(x_g.shape[0], dtype=x_g.dtype, device=x_g.device)
            adv = generator_adversarial_loss(view, ones, times_elements=False)
            loss = loss + p.gan_weight_g * adv.loss
            terms.update(generator_adversarial_terms(adv))
        terms["loss"] = loss.detach()
        return LossOutput(loss=loss, terms=terms)


def build_dmd(params: DmdParams) -> Dmd:
    return Dmd(params)

"""The stand-alone adversarial objective (spec §6.4), DMD2's ``gan_alone``.

The generator learns only to fool psi's per-token discriminator; psi keeps its DSM loss because
the discriminator's features are psi's own and would otherwise drift from a useful denoiser.  Real
and generated samples are noised independently by default (DMD2), or with shared ``t``/``eps``.
Losses use per-token means (DMD2's scale): ``L_D = BCE_real + BCE_fake`` (``2 log 2`` at zero
logits) and ``L_G = -log D(fake)`` (``log 2`` at zero logits).
"""

from __future__ import annotations

import attrs
import torch
from attrs import validators as v

from dlmkit.interfaces.objective import DistillContext, LossOutput, Scalar
from dlmkit.objectives.adversarial import (
    discriminator_loss,
    discriminator_terms,
    generator_adversarial_loss,
    generator_adversarial_terms,
)
from dlmkit.objectives.dsm import dsm_loss
from dlmkit.objectives.generator_view import generator_view
from dlmkit.objectives.params import boolean, non_negative, positive, update_ratio
from dlmkit.objectives.psi_view import PsiView, psi_view
from dlmkit.objectives.weighting import TIME_WEIGHTINGS, TimeWeighting


@attrs.frozen
class GanParams:
    """``[stage.objective]`` keys of ``gan``.

    ``gan_weight_d`` weights the discriminator loss against psi's per-element DSM (``dsm_weight``;
    DMD2: 1e-2 against 1); ``gan_weight_g`` scales the generator's loss.  ``generator_every`` is the
    number of psi updates per generator update.
    """

    gan_weight_d: float = attrs.field(default=1e-2, validator=positive)
    gan_weight_g: float = attrs.field(default=1.0, validator=positive)
    dsm_weight: float = attrs.field(default=1.0, validator=non_negative)
    dsm_weighting: TimeWeighting = attrs.field(default="one", validator=v.in_(TIME_WEIGHTINGS))
    sigma_data: float = attrs.field(default=0.5, validator=positive)
    share_noise: bool = attrs.field(default=False, validator=boolean)
    generator_every: int = attrs.field(default=1, validator=update_ratio)


def dmd2_discriminator_loss(view: PsiView, ctx: DistillContext) -> tuple[torch.Tensor, dict[str, Scalar]]:
    """DMD2's ``mean softplus(l_fake) + mean softplus(-l_real)`` over target tokens, and its log entries."""
    disc = discriminator_loss(view, ctx.schedule, "one", 0.5)
    loss = 2.0 * disc.loss  # the shared helper halves the sum of the two BCEs; DMD2 does not
    return loss, {**discriminator_terms(disc), "adv": loss.detach()}


class Gan:
    """Adversarial distillation without score matching for the generator."""

    uses_real_data = True
    uses_discriminator = True

    def __init__(self, params: GanParams | None = None) -> None:
        self.params = params or GanParams()
        self.generator_every = self.params.generator_every

    def psi_loss(self, ctx: DistillContext) -> LossOutput:
        p = self.params
        view = psi_view(ctx, discriminate=True, share_noise=p.share_noise)
        dsm = dsm_loss(view, ctx.schedule, p.dsm_weighting, p.sigma_data, per_element=True)
        disc_loss, disc_terms = dmd2_discriminator_loss(view, ctx)
        loss = p.dsm_weight * dsm.loss + p.gan_weight_d * disc_loss
        terms: dict[str, Scalar] = {
            "loss": loss.detach(),
            "dsm": dsm.loss.detach(),
            "dsm_mse": dsm.mse,
            "dropped": dsm.dropped,
            "t_mean": view.t.float().mean().detach(),
            **disc_terms,
        }
        return LossOutput(loss=loss, terms=terms)

    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        view = generator_view(ctx, teacher="skip", psi="skip", logits=True)
        ones = torch.ones(view.x_gen.shape[0], dtype=view.x_gen.dtype, device=view.x_gen.device)
        adv = generator_adversarial_loss(view, ones, times_elements=False)
        loss = self.params.gan_weight_g * adv.loss
        return LossOutput(loss=loss, terms={"loss": loss.detach(), **generator_adversarial_terms(adv)})


def build_gan(params: GanParams) -> Gan:
    return Gan(params)

"""DLM-One's objective: SiD plus the adversarial term, with the paper's four coefficients (Table 5).

psi update: ``a_dsm L_dsm + b_adv_psi disc_scale L_D``; generator update:
``a_sd sid_scale L_sid + b_adv_g gan_scale L_adv``.  The inner scales are SiDA's, which DLM-One's
(0.5, 0.5) pairs sit on top of: ``L_sid`` and ``L_dsm`` are element sums over target positions
(``sid_scale`` = SiDA's ``lsg`` = 100), ``L_adv`` is the per-token mean BCE times ``N_m`` (SiDA's
``C*H*W``) times ``gan_scale`` = 0.01, and ``L_D`` is the per-token mean BCE added 1:1
(``disc_scale`` = SiDA's ``lsd`` = 1).  The generator's GAN/SiD ratio is then independent of the
sequence length and width.  Each side runs psi once: its x0 prediction feeds DSM / SiD and its hidden
states the discriminator head.
"""

from __future__ import annotations

import attrs
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
from dlmkit.objectives.params import finite_number, non_negative, positive, update_ratio
from dlmkit.objectives.psi_view import psi_view
from dlmkit.objectives.sid import sid_generator_loss, sid_terms
from dlmkit.objectives.weighting import (
    GENERATOR_WEIGHTINGS,
    TIME_WEIGHTINGS,
    GeneratorWeighting,
    TimeWeighting,
    generator_weight,
)


@attrs.frozen
class SidGanParams:
    """``[stage.objective]`` keys of ``sid_gan``.

    ``a_dsm``/``b_adv_psi`` weight psi's DSM and discriminator losses, ``a_sd``/``b_adv_g`` the
    generator's SiD and adversarial losses (DLM-One: 0.5 each; QQP stage 2 uses 0.9 / 0.1 for the
    generator).  ``sid_scale``, ``gan_scale`` and ``disc_scale`` are SiDA's inner scales (module
    docstring).  A zero ``b_adv_psi`` skips real pairs.  The other keys are as in ``sid`` and
    ``adversarial``; the generator's adversarial term uses the same ``w`` as SiD.
    """

    alpha: float = attrs.field(default=1.2, validator=finite_number)
    a_dsm: float = attrs.field(default=0.5, validator=non_negative)
    b_adv_psi: float = attrs.field(default=0.5, validator=non_negative)
    a_sd: float = attrs.field(default=0.5, validator=non_negative)
    b_adv_g: float = attrs.field(default=0.5, validator=non_negative)
    weighting: GeneratorWeighting = attrs.field(default="sid_legacy", validator=v.in_(GENERATOR_WEIGHTINGS))
    dsm_weighting: TimeWeighting = attrs.field(default="one", validator=v.in_(TIME_WEIGHTINGS))
    disc_weighting: TimeWeighting = attrs.field(default="one", validator=v.in_(TIME_WEIGHTINGS))
    sigma_data: float = attrs.field(default=0.5, validator=positive)
    sid_scale: float = attrs.field(default=100.0, validator=positive)
    gan_scale: float = attrs.field(default=0.01, validator=positive)
    disc_scale: float = attrs.field(default=1.0, validator=positive)
    generator_every: int = attrs.field(default=1, validator=update_ratio)
    """psi updates per generator update (two time scales); 1 is SiDA's and DLM-One's."""

    def __attrs_post_init__(self) -> None:
        if self.a_dsm == 0.0 and self.b_adv_psi == 0.0:
            raise ValueError("'a_dsm' and 'b_adv_psi' are both 0: psi would never learn; make one of them > 0")
        if self.a_sd == 0.0 and self.b_adv_g == 0.0:
            raise ValueError("'a_sd' and 'b_adv_g' are both 0: the generator would never learn; make one of them > 0")


class SidGan:
    """SiD with psi as score network and discriminator at once."""

    uses_discriminator = True  # the generator's adversarial term reads psi's head even when psi does not train it

    def __init__(self, params: SidGanParams | None = None) -> None:
        self.params = params or SidGanParams()
        self.generator_every = self.params.generator_every
        self.uses_real_data = self.params.b_adv_psi > 0.0

    def psi_loss(self, ctx: DistillContext) -> LossOutput:
        p = self.params
        view = psi_view(ctx, discriminate=self.uses_real_data, share_noise=True)
        dsm = dsm_loss(view, ctx.schedule, p.dsm_weighting, p.sigma_data, per_element=False)
        loss = p.a_dsm * dsm.loss
        terms: dict[str, Scalar] = {"dsm": dsm.loss.detach(), "dsm_mse": dsm.mse, "dropped": dsm.dropped}
        if self.uses_real_data:
            disc = discriminator_loss(view, ctx.schedule, p.disc_weighting, p.sigma_data)
            loss = loss + p.b_adv_psi * p.disc_scale * disc.loss
            terms.update(discriminator_terms(disc))
        terms["loss"] = loss.detach()
        terms["t_mean"] = view.t.float().mean().detach()
        return LossOutput(loss=loss, terms=terms)

    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        p = self.params
        view = generator_view(ctx, teacher="graph", psi="graph", logits=True)
        w = generator_weight(p.weighting, ctx.schedule, view, p.sigma_data)
        sid = sid_generator_loss(view, p.alpha, w)
        adv = generator_adversarial_loss(view, w, times_elements=True)
        loss = p.a_sd * p.sid_scale * sid.loss + p.b_adv_g * p.gan_scale * adv.loss
        terms = {"loss": loss.detach(), **sid_terms(sid, view), **generator_adversarial_terms(adv)}
        return LossOutput(loss=loss, terms=terms)


def build_sid_gan(params: SidGanParams) -> SidGan:
    return SidGan(params)

"""psi doubles as a Diffusion-GAN discriminator (spec §6.3, SiDA / SiD-DiT style).

Real pairs from the data and generated samples are noised at the same ``t`` with the same ``eps``,
so the discriminator compares them at one noise level.  Scales follow SiDA: the discriminator loss
is the per-sample mean BCE over target tokens, averaged over the batch (no element count), and the
generator's adversarial term may be multiplied by the number of target elements ``N_m`` where it
must sit beside an element-summed SiD loss (``sid_gan``; see docs/recipes.md).  The per-sample
means keep SiD-DiT's fix of SiDA's batch-mean subtlety, so per-sample weights act per sample.
Normalisation: the logged ``adv_bce`` is ``1/2 (BCE_real + BCE_fake)`` averaged over target tokens,
which is ``log 2`` at zero logits; ``disc_acc_real``/``disc_acc_fake`` are the head's accuracies.
"""

from __future__ import annotations

import attrs
from attrs import validators as v
from torch import Tensor

from dlmkit.interfaces.objective import DistillContext, LossOutput, Scalar
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.objectives.discriminator import accuracy, fake_bce, real_bce
from dlmkit.objectives.finite import finite_sum
from dlmkit.objectives.generator_view import GeneratorView, generator_view
from dlmkit.objectives.masking import element_count
from dlmkit.objectives.params import positive
from dlmkit.objectives.psi_view import PsiView, psi_view
from dlmkit.objectives.weighting import (
    GENERATOR_WEIGHTINGS,
    TIME_WEIGHTINGS,
    GeneratorWeighting,
    TimeWeighting,
    generator_weight,
    time_weight,
)


@attrs.frozen
class AdversarialParams:
    """``[stage.objective]`` keys of ``adversarial``.

    ``weighting`` is the generator-side ``w`` (the same choices as SiD; ``sid_legacy`` costs one
    gradient-free teacher forward); ``disc_weighting`` is the discriminator's ``lambda_D(t)``.  Both
    losses are per-token mean BCEs averaged over the batch, scaled by ``lambda_d`` / ``lambda_g``.
    """

    lambda_d: float = attrs.field(default=1.0, validator=positive)
    lambda_g: float = attrs.field(default=1.0, validator=positive)
    weighting: GeneratorWeighting = attrs.field(default="sid_legacy", validator=v.in_(GENERATOR_WEIGHTINGS))
    disc_weighting: TimeWeighting = attrs.field(default="one", validator=v.in_(TIME_WEIGHTINGS))
    sigma_data: float = attrs.field(default=0.5, validator=positive)


@attrs.frozen
class DiscriminatorResult:
    """The psi-side adversarial batch loss and what to log about it."""

    loss: Tensor
    bce: Tensor
    bce_real: Tensor
    bce_fake: Tensor
    logit_real: Tensor
    logit_fake: Tensor
    acc_real: Tensor
    acc_fake: Tensor
    dropped: Tensor


@attrs.frozen
class GeneratorAdversarialResult:
    """The generator-side non-saturating batch loss and what to log about it."""

    loss: Tensor
    bce: Tensor
    logit: Tensor
    dropped: Tensor


def discriminator_loss(
    view: PsiView, schedule: NoiseSchedule, weighting: str, sigma_data: float
) -> DiscriminatorResult:
    """``(1/B) sum_i lambda_D(t_i) 1/2 [BCE_real,i + BCE_fake,i]``, each BCE a mean over target tokens."""
    if view.real_logits is None or view.fake_logits is None or view.real_weights is None:
        raise ValueError("the discriminator loss needs a psi view made with discriminate=True")
    real = real_bce(view.real_logits, view.real_tokens)
    fake = fake_bce(view.fake_logits, view.fake_tokens)
    weight = time_weight(weighting, schedule, view.t, view.x0, sigma_data)
    total, dropped = finite_sum(weight * 0.5 * (real + fake))
    return DiscriminatorResult(
        loss=total / view.x0.shape[0],
        bce=(0.5 * (real + fake)).detach().mean(),
        bce_real=real.detach().mean(),
        bce_fake=fake.detach().mean(),
        logit_real=_mean_target_logit(view.real_logits, view.real_tokens),
        logit_fake=_mean_target_logit(view.fake_logits, view.fake_tokens),
        acc_real=accuracy(view.real_logits, view.real_tokens, real=True),
        acc_fake=accuracy(view.fake_logits, view.fake_tokens, real=False),
        dropped=dropped,
    )


def generator_adversarial_loss(
    view: GeneratorView, weight: Tensor, *, times_elements: bool
) -> GeneratorAdversarialResult:
    """``(1/B) sum_i w_i BCE(D(x_g,t), real)_i`` (non-saturating form), times ``N_m,i`` when ``times_elements``.

    ``times_elements`` is SiDA's ``C*H*W`` factor, which puts the term on the scale of an element-summed
    SiD loss so that their ratio does not depend on the sequence length or embedding width.
    """
    if view.logits is None:
        raise ValueError("the generator's adversarial loss needs psi's logits (generator_view(..., logits=True))")
    bce = real_bce(view.logits, view.tokens)
    scaled = bce * element_count(view.weights, view.x_gen) if times_elements else bce
    total, dropped = finite_sum(weight * scaled)
    return GeneratorAdversarialResult(
        loss=total / view.x_gen.shape[0],
        bce=bce.detach().mean(),
        logit=_mean_target_logit(view.logits, view.tokens),
        dropped=dropped,
    )


def _mean_target_logit(logits: Tensor, tokens: Tensor) -> Tensor:
    detached = logits.detach()
    return ((detached * tokens).sum() / tokens.sum().clamp_min(1.0)).detach()


class Adversarial:
    """The adversarial term alone: psi trained only as a discriminator, the generator only to fool it."""

    generator_every = 1
    uses_real_data = True
    uses_discriminator = True

    def __init__(self, params: AdversarialParams | None = None) -> None:
        self.params = params or AdversarialParams()

    def psi_loss(self, ctx: DistillContext) -> LossOutput:
        p = self.params
        view = psi_view(ctx, discriminate=True, share_noise=True)
        disc = discriminator_loss(view, ctx.schedule, p.disc_weighting, p.sigma_data)
        loss = p.lambda_d * disc.loss
        return LossOutput(loss=loss, terms={"loss": loss.detach(), **discriminator_terms(disc)})

    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        p = self.params
        needs_teacher = p.weighting == "sid_legacy"
        view = generator_view(ctx, teacher="detached" if needs_teacher else "skip", psi="skip", logits=True)
        w = generator_weight(p.weighting, ctx.schedule, view, p.sigma_data)
        adv = generator_adversarial_loss(view, w, times_elements=False)
        loss = p.lambda_g * adv.loss
        terms = {
            "loss": loss.detach(),
            "adv_weight": w.mean().detach(),
            **generator_adversarial_terms(adv),
        }
        return LossOutput(loss=loss, terms=terms)


def discriminator_terms(result: DiscriminatorResult) -> dict[str, Scalar]:
    """The psi-side adversarial log entries."""
    return {
        "adv": result.loss.detach(),
        "adv_bce": result.bce,
        "adv_bce_real": result.bce_real,
        "adv_bce_fake": result.bce_fake,
        "logit_real": result.logit_real,
        "logit_fake": result.logit_fake,
        "disc_acc_real": result.acc_real,
        "disc_acc_fake": result.acc_fake,
        "adv_dropped": result.dropped,
    }


def generator_adversarial_terms(result: GeneratorAdversarialResult) -> dict[str, Scalar]:
    """The generator-side adversarial log entries."""
    return {
        "adv": result.loss.detach(),
        "adv_bce": result.bce,
        "logit": result.logit,
        "adv_dropped": result.dropped,
    }


def build_adversarial(params: AdversarialParams) -> Adversarial:
    return Adversarial(params)

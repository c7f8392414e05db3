"""The adversarial term: log 2 at zero logits, an independent BCE reference, shared noise, clamping."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmkit.objectives.adversarial import Adversarial, AdversarialParams
from tests.test_objective_toys import ConstantFeatures, ContextMaker, MlpDenoiser, Recorder, T

LOG2 = math.log(2.0)


def plain() -> AdversarialParams:
    return AdversarialParams(weighting="one", disc_weighting="one")


@given(t=st.integers(0, T - 1), seed=st.integers(0, 100))
@settings(max_examples=10)
def test_zero_logits_give_log_2_on_both_sides(t: int, seed: int) -> None:
    make = ContextMaker(teacher=MlpDenoiser(seed=seed), psi=ConstantFeatures(MlpDenoiser(seed=seed + 1)), t=t)
    objective = Adversarial(plain())
    psi_out = objective.psi_loss(make("psi"))
    gen_out = objective.generator_loss(make("generator"))
    assert psi_out.loss.item() == pytest.approx(LOG2)
    assert float(psi_out.terms["adv_bce"]) == pytest.approx(LOG2)
    assert float(psi_out.terms["adv_bce_real"]) == pytest.approx(LOG2)
    assert float(psi_out.terms["adv_bce_fake"]) == pytest.approx(LOG2)
    assert gen_out.loss.item() == pytest.approx(LOG2)
    assert float(gen_out.terms["adv_bce"]) == pytest.approx(LOG2)


def test_discriminator_loss_does_not_grow_with_the_target_size() -> None:
    """SiDA adds the per-token mean BCE to psi's loss as it is: no element count (log 2 at zero logits)."""
    for dim in (4, 16):
        make = ContextMaker(
            teacher=MlpDenoiser(seed=0, embed_dim=dim),
            psi=ConstantFeatures(MlpDenoiser(seed=1, embed_dim=dim)),
            dim=dim,
            t=10,
        )
        assert Adversarial(AdversarialParams(disc_weighting="one")).psi_loss(make("psi")).loss.item() == pytest.approx(
            LOG2
        )


@given(t=st.integers(0, T - 1), seed=st.integers(0, 100))
@settings(max_examples=10)
def test_discriminator_loss_matches_torch_bce(t: int, seed: int) -> None:
    psi = Recorder(MlpDenoiser(seed=seed + 7))
    make = ContextMaker(psi=psi, seed=seed, t=t)
    ctx = make("psi")
    out = Adversarial(plain()).psi_loss(ctx)
    (_, fake_x, steps), (_, real_x, _) = psi.calls

    def bce(x: torch.Tensor, mask: torch.Tensor, target: float) -> torch.Tensor:
        logits = psi.inner.denoise_with_features(x, steps)[1].mean(-1).clamp(-10, 10)
        per_token = F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target), reduction="none")
        return (per_token * mask).sum(1) / mask.sum(1)

    expected = 0.5 * (bce(real_x, ctx.real_mask, 1.0) + bce(fake_x, ctx.mask, 0.0)).mean()
    torch.testing.assert_close(out.loss, expected)


def test_real_and_fake_samples_share_timestep_and_noise() -> None:
    psi = Recorder(MlpDenoiser(seed=3))
    make = ContextMaker(psi=psi)
    ctx = make("psi")
    Adversarial().psi_loss(ctx)
    (_, fake_x, fake_t), (_, real_x, real_t) = psi.calls
    assert torch.equal(fake_t, real_t)
    abar = ctx.schedule.alphas_cumprod[fake_t][:, None, None]
    fake_eps = (fake_x - abar.sqrt() * ctx.x_gen) / (1 - abar).sqrt()
    real_eps = (real_x - abar.sqrt() * ctx.x_real) / (1 - abar).sqrt()
    both = (ctx.mask * ctx.real_mask).bool()
    torch.testing.assert_close(fake_eps[both], real_eps[both])


@pytest.mark.parametrize("value", [1e4, -1e4])
def test_logits_are_clamped_to_ten(value: float) -> None:
    make = ContextMaker(psi=ConstantFeatures(MlpDenoiser(seed=1), value=value), t=5)
    out = Adversarial(plain()).psi_loss(make("psi"))
    logit = math.copysign(10.0, value)
    assert float(out.terms["logit_real"]) == logit and float(out.terms["logit_fake"]) == logit
    assert float(out.terms["adv_bce_real"]) == pytest.approx(math.log1p(math.exp(-logit)))
    assert float(out.terms["adv_bce_fake"]) == pytest.approx(math.log1p(math.exp(logit)))


@given(value=st.floats(-20.0, 20.0), weighting=st.sampled_from(["one", "sid_legacy"]))
@settings(max_examples=15)
def test_gan_terms_are_never_negative(value: float, weighting: str) -> None:
    make = ContextMaker(psi=ConstantFeatures(MlpDenoiser(seed=1), value=value), t=100)
    objective = Adversarial(AdversarialParams(weighting=weighting))  # type: ignore[arg-type]
    assert objective.psi_loss(make("psi")).loss.item() >= 0.0
    assert objective.generator_loss(make("generator")).loss.item() >= 0.0


def test_generator_side_uses_the_teacher_only_for_the_weight() -> None:
    teacher = Recorder(MlpDenoiser(seed=0))
    make = ContextMaker(teacher=teacher, psi=MlpDenoiser(seed=5), t=400)
    out = Adversarial().generator_loss(make("generator"))
    assert [name for name, _, _ in teacher.calls] == ["denoise"]
    (grad,) = torch.autograd.grad(out.loss, make.theta)
    assert grad.abs().max().item() > 0.0
    assert float(out.terms["adv_weight"]) > 0.0

    skipped = Recorder(MlpDenoiser(seed=0))
    Adversarial(AdversarialParams(weighting="one")).generator_loss(ContextMaker(teacher=skipped, t=400)("generator"))
    assert skipped.calls == []


def test_adversarial_needs_real_data() -> None:
    assert Adversarial().uses_real_data is True and Adversarial().generator_every == 1

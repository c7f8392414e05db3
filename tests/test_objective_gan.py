"""The stand-alone GAN objective: DMD2's sum-of-BCE discriminator, DSM kept for psi, independent noise."""

from __future__ import annotations

import math

import pytest
import torch

from dlmkit.objectives.gan import Gan, GanParams
from dlmkit.objectives.sid import Sid
from tests.test_objective_toys import ConstantFeatures, ContextMaker, MlpDenoiser, Recorder

LOG2 = math.log(2.0)


def test_zero_logits_give_two_log_2_for_the_discriminator_and_log_2_for_the_generator() -> None:
    make = ContextMaker(psi=ConstantFeatures(MlpDenoiser(seed=1)), t=50)
    objective = Gan(GanParams(gan_weight_d=0.1, gan_weight_g=0.3))
    psi = objective.psi_loss(make("psi"))
    assert float(psi.terms["adv"]) == pytest.approx(2 * LOG2)
    assert psi.loss.item() == pytest.approx(float(psi.terms["dsm"]) + 0.1 * 2 * LOG2)
    gen = objective.generator_loss(make("generator"))
    assert gen.loss.item() == pytest.approx(0.3 * LOG2)


def test_psi_keeps_a_per_element_dsm_term() -> None:
    make = ContextMaker(seed=2, t=300)
    ctx = make("psi")
    gan = Gan(GanParams(share_noise=True)).psi_loss(ctx)
    sid = Sid().psi_loss(make("psi"))  # element sums; same draws
    n_m = (ctx.mask.sum(1) * ctx.x_gen.shape[-1]).double()
    assert float(gan.terms["dsm_mse"]) == pytest.approx(float(sid.terms["dsm_mse"]))
    assert float(gan.terms["dsm"]) > 0.0
    assert float(sid.terms["dsm"]) / float(gan.terms["dsm"]) == pytest.approx(n_m.mean().item(), rel=0.5)


def test_real_pairs_are_noised_independently_unless_shared() -> None:
    psi = Recorder(MlpDenoiser(seed=1))
    Gan().psi_loss(ContextMaker(psi=psi)("psi"))
    (_, _, fake_t), (_, _, real_t) = psi.calls
    assert not torch.equal(fake_t, real_t)
    psi.calls.clear()
    Gan(GanParams(share_noise=True)).psi_loss(ContextMaker(psi=psi)("psi"))
    (_, _, fake_t), (_, _, real_t) = psi.calls
    assert torch.equal(fake_t, real_t)


def test_generator_never_consults_the_teacher() -> None:
    teacher = Recorder(MlpDenoiser(seed=0))
    make = ContextMaker(teacher=teacher, t=10)
    out = Gan().generator_loss(make("generator"))
    assert teacher.calls == []
    (grad,) = torch.autograd.grad(out.loss, make.theta)
    assert grad.abs().max().item() > 0.0


def test_defaults() -> None:
    params = GanParams()
    assert (params.gan_weight_d, params.gan_weight_g, params.dsm_weight) == (1e-2, 1.0, 1.0)
    assert Gan().uses_real_data is True and Gan(GanParams(generator_every=3)).generator_every == 3

"""``sid_gan``: DLM-One's four coefficients over SiD and the adversarial term, one psi forward per side."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmkit.objectives.adversarial import Adversarial
from dlmkit.objectives.sid import Sid
from dlmkit.objectives.sid_gan import SidGan, SidGanParams
from tests.test_objective_toys import ContextMaker, MlpDenoiser, Recorder

COEFFICIENTS = st.sampled_from([0.1, 0.5, 0.9, 1.0])


@given(a_dsm=COEFFICIENTS, b_psi=COEFFICIENTS, a_sd=COEFFICIENTS, b_g=COEFFICIENTS, seed=st.integers(0, 100))
@settings(max_examples=15)
def test_losses_are_the_weighted_sums_of_sid_and_adversarial(
    a_dsm: float, b_psi: float, a_sd: float, b_g: float, seed: int
) -> None:
    params = SidGanParams(a_dsm=a_dsm, b_adv_psi=b_psi, a_sd=a_sd, b_adv_g=b_g)
    objective = SidGan(params)
    make = ContextMaker(seed=seed)  # every call replays the same data, timesteps and noise
    psi = objective.psi_loss(make("psi")).loss
    expected_psi = a_dsm * Sid().psi_loss(make("psi")).loss + b_psi * Adversarial().psi_loss(make("psi")).loss
    torch.testing.assert_close(psi, expected_psi)
    gen = objective.generator_loss(make("generator")).loss
    expected_gen = a_sd * params.sid_scale * Sid().generator_loss(make("generator")).loss
    expected_gen = expected_gen + b_g * params.gan_scale * sida_gan_reference(make)
    torch.testing.assert_close(gen, expected_gen)


def sida_gan_reference(make: ContextMaker) -> torch.Tensor:
    """SiDA's generator GAN term by hand: ``mean_i w_i * N_m,i * mean_tok BCE(logit, 1)``."""
    ctx = make("generator")
    x_gen = ctx.x_gen
    t = ctx.sample_t(x_gen.shape[0])
    eps = ctx.noise_like(x_gen)
    x_t = ctx.noised(x_gen, t, eps, ctx.mask)
    teacher_pred = ctx.teacher.denoise(x_t, t)
    _, hidden = ctx.psi.denoise_with_features(x_t, t)
    logits = ctx.logits(hidden)
    m = ctx.mask.to(x_gen.dtype)
    w = 1.0 / ((x_gen - teacher_pred).abs() * m[..., None]).sum((1, 2)).div(m.sum(1) * x_gen.shape[-1]).clamp_min(1e-5)
    bce = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits), reduction="none")
    per_token = (bce * m).sum(1) / m.sum(1)
    return (w.detach() * per_token * m.sum(1) * x_gen.shape[-1]).mean()


def test_gan_to_sid_ratio_follows_sida_and_not_the_element_count() -> None:
    """SiDA multiplies the GAN BCE by the element count, so doubling the width leaves GAN/SiD alone."""
    ratios = []
    for dim in (4, 8):
        make = ContextMaker(teacher=MlpDenoiser(seed=0, embed_dim=dim), dim=dim, seed=3, t=300)
        out = SidGan().generator_loss(make("generator"))
        ratios.append(float(out.terms["adv"]) * 0.01 / (float(out.terms["sid"]) * 100.0))
    assert ratios[0] != 0.0
    assert abs(ratios[1] / ratios[0] - 1.0) < 1.0


def test_one_psi_forward_per_update_side() -> None:
    teacher, psi = Recorder(MlpDenoiser(seed=0)), Recorder(MlpDenoiser(seed=1))
    make = ContextMaker(teacher=teacher, psi=psi)
    objective = SidGan()
    objective.psi_loss(make("psi"))
    assert [name for name, _, _ in psi.calls] == ["denoise_with_features"] * 2  # fake (DSM + logits), real
    assert teacher.calls == []
    psi.calls.clear()
    out = objective.generator_loss(make("generator"))
    assert [name for name, _, _ in psi.calls] == ["denoise_with_features"]
    assert [name for name, _, _ in teacher.calls] == ["denoise"]
    for term in ("sid", "sid_gap", "sid_cross", "sid_weight", "adv", "adv_bce", "logit"):
        assert term in out.terms


def test_without_the_psi_adversarial_term_no_real_data_is_used() -> None:
    psi = Recorder(MlpDenoiser(seed=1))
    objective = SidGan(SidGanParams(b_adv_psi=0.0))
    assert objective.uses_real_data is False
    out = objective.psi_loss(ContextMaker(psi=psi)("psi"))
    assert len(psi.calls) == 1 and "adv" not in out.terms


def test_defaults_are_dlm_one_stage_one() -> None:
    p = SidGanParams()
    assert (p.alpha, p.a_dsm, p.b_adv_psi, p.a_sd, p.b_adv_g) == (1.2, 0.5, 0.5, 0.5, 0.5)
    assert SidGan().uses_real_data is True and SidGan().generator_every == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"a_dsm": 0.0, "b_adv_psi": 0.0}, "psi would never learn"),
        ({"a_sd": 0.0, "b_adv_g": 0.0}, "generator would never learn"),
        ({"b_adv_g": -0.1}, "'b_adv_g' must be >= 0"),
        ({"alpha": float("nan")}, "'alpha' must be finite"),
    ],
)
def test_bad_coefficients_are_rejected(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SidGanParams(**kwargs)  # type: ignore[arg-type]

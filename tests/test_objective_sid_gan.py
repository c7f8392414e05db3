"""``sid_gan``: DLM-One's four coefficients over SiD and the adversarial term, one psi forward per side."""

from __future__ import annotations

import pytest
import torch
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
    objective = SidGan(SidGanParams(a_dsm=a_dsm, b_adv_psi=b_psi, a_sd=a_sd, b_adv_g=b_g))
    make = ContextMaker(seed=seed)  # every call replays the same data, timesteps and noise
    psi = objective.psi_loss(make("psi")).loss
    expected_psi = a_dsm * Sid().psi_loss(make("psi")).loss + b_psi * Adversarial().psi_loss(make("psi")).loss
    torch.testing.assert_close(psi, expected_psi)
    gen = objective.generator_loss(make("generator")).loss
    expected_gen = a_sd * Sid().generator_loss(make("generator")).loss
    expected_gen = expected_gen + b_g * Adversarial().generator_loss(make("generator")).loss
    torch.testing.assert_close(gen, expected_gen)


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

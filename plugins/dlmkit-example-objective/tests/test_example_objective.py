"""``sid_min_snr``: the objective contract, agreement with dlmkit's own SiD up to the time weight, params."""

from __future__ import annotations

import pytest
import torch

from dlmkit.objectives.sid import Sid, SidParams
from dlmkit.plugins import get_registry
from dlmkit.testing import TeacherContexts, ToyTeacherParams, build_toy_teacher, check_objective
from dlmkit.testing.toy_teacher import ToyTeacher
from dlmkit_example_objective.objective import SidMinSnr
from dlmkit_example_objective.params import SidMinSnrParams

torch.set_num_threads(1)


def toy_teacher() -> ToyTeacher:
    torch.manual_seed(0)
    return build_toy_teacher(ToyTeacherParams(embed_dim=8, hidden_size=16, num_heads=2), vocab_size=30, seq_len=10)


@pytest.mark.parametrize(
    "params", [SidMinSnrParams(), SidMinSnrParams(gamma=0.5, normalise=False, weight_psi=False, alpha=0.5)]
)
def test_passes_the_objective_contract(params: SidMinSnrParams) -> None:
    check_objective(SidMinSnr(params), TeacherContexts(toy_teacher()))


def test_is_registered_by_the_installed_plugin() -> None:
    entry = get_registry().get("objective", "sid_min_snr")
    assert entry.provider == "dlmkit-example-objective" and entry.params is SidMinSnrParams
    assert isinstance(entry.factory(SidMinSnrParams(gamma=2.0)), SidMinSnr)


@pytest.mark.parametrize("t", [3, 700, 1500, 1999])
def test_equals_dlmkit_sid_times_the_min_snr_weight(t: int) -> None:
    """Same batch, timestep and noise: the losses differ from the built-in SiD's by exactly min(SNR, gamma)/gamma."""
    teacher, gamma = toy_teacher(), 5.0
    a, b = (TeacherContexts(teacher, seed=4, t_min=t, t_max=t) for _ in range(2))
    assert a.schedule is not None
    abar = float(a.schedule.alphas_cumprod[t])
    weight = min(abar / (1.0 - abar), gamma) / gamma
    mine = SidMinSnr(SidMinSnrParams(alpha=1.2, gamma=gamma))
    builtin = Sid(SidParams(alpha=1.2, weighting="sid_legacy", dsm_weighting="one"))
    for update in ("generator", "psi"):
        ctx_a, ctx_b = a(update), b(update)
        assert torch.equal(ctx_a.x_gen, ctx_b.x_gen)
        ours = (mine.generator_loss if update == "generator" else mine.psi_loss)(ctx_a).loss
        reference = (builtin.generator_loss if update == "generator" else builtin.psi_loss)(ctx_b).loss
        torch.testing.assert_close(ours.double(), reference.double() * weight, rtol=1e-5, atol=1e-9)


def test_light_noise_keeps_full_weight_and_heavy_noise_is_damped() -> None:
    teacher = toy_teacher()
    light, heavy = TeacherContexts(teacher, t_min=0, t_max=0), TeacherContexts(teacher, t_min=1999, t_max=1999)
    objective = SidMinSnr()
    assert objective.generator_loss(light("generator")).terms["time_weight"] == 1.0
    assert objective.generator_loss(heavy("generator")).terms["time_weight"] < 1e-3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"gamma": 0.0}, "'gamma' must be > 0"),
        ({"alpha": float("nan")}, "'alpha' must be a finite number"),
        ({"normalise": 1}, "'normalise' must be true or false"),
        ({"lambda_g": -1.0}, "'lambda_g' must be > 0"),
    ],
)
def test_params_reject_bad_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SidMinSnrParams(**changes)  # type: ignore[arg-type]

"""Time weightings agree with the schedule's own SNR; SiD's normaliser is per sample, target-only, floored."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmkit.objectives.generator_view import GeneratorView
from dlmkit.objectives.sid import Sid, SidParams
from dlmkit.objectives.weighting import (
    GENERATOR_WEIGHTINGS,
    SID_LEGACY_FLOOR,
    TIME_WEIGHTINGS,
    generator_weight,
    time_weight,
)
from dlmkit.testing.objective_contract import check_extreme_timesteps
from tests.test_objective_toys import ContextMaker, T, sqrt_schedule

STEPS = st.lists(st.one_of(st.sampled_from([0, T - 1]), st.integers(0, T - 1)), min_size=1, max_size=5)


@given(steps=STEPS, sigma_data=st.floats(0.1, 2.0))
def test_time_weightings_follow_the_schedule_snr(steps: list[int], sigma_data: float) -> None:
    schedule = sqrt_schedule()
    t = torch.tensor(steps)
    like = torch.zeros(1, dtype=torch.float64)
    snr = schedule.snr(t)
    torch.testing.assert_close(time_weight("one", schedule, t, like), torch.ones(len(steps), dtype=torch.float64))
    torch.testing.assert_close(time_weight("snr", schedule, t, like), snr)
    torch.testing.assert_close(time_weight("snr_sqrt", schedule, t, like), snr.sqrt())
    torch.testing.assert_close(time_weight("edm", schedule, t, like, sigma_data), snr + sigma_data**-2)


def test_weights_take_the_dtype_of_the_data() -> None:
    weight = time_weight("snr", sqrt_schedule(), torch.tensor([3]), torch.zeros(1, dtype=torch.float32))
    assert weight.dtype == torch.float32


def _view(x_gen: torch.Tensor, teacher_pred: torch.Tensor, mask: torch.Tensor) -> GeneratorView:
    return GeneratorView(
        t=torch.zeros(x_gen.shape[0], dtype=torch.long),
        x_gen=x_gen,
        weights=mask[..., None].to(x_gen.dtype),
        teacher_pred=teacher_pred,
    )


def test_sid_legacy_is_the_inverse_mean_absolute_gap_on_targets() -> None:
    x_gen = torch.zeros(2, 3, 2)
    teacher = torch.tensor([[[100.0, 100.0], [1.0, 3.0], [2.0, 2.0]], [[7.0, 7.0], [7.0, 7.0], [0.5, -0.5]]])
    mask = torch.tensor([[0, 1, 1], [0, 0, 1]])
    weight = generator_weight("sid_legacy", sqrt_schedule(), _view(x_gen, teacher, mask))
    torch.testing.assert_close(weight, torch.tensor([1 / 2.0, 1 / 0.5]))


def test_sid_legacy_is_floored_when_the_generator_matches_the_teacher() -> None:
    x = torch.randn(2, 3, 2)
    weight = generator_weight("sid_legacy", sqrt_schedule(), _view(x, x.clone(), torch.ones(2, 3)))
    torch.testing.assert_close(weight, torch.full((2,), 1 / SID_LEGACY_FLOOR))


def test_sid_legacy_needs_the_teacher_and_unknown_names_are_refused() -> None:
    view = GeneratorView(t=torch.zeros(1, dtype=torch.long), x_gen=torch.zeros(1, 2, 2), weights=torch.ones(1, 2, 1))
    with pytest.raises(ValueError, match="teacher"):
        generator_weight("sid_legacy", sqrt_schedule(), view)
    with pytest.raises(ValueError, match="unknown time weighting 'karras'"):
        time_weight("karras", sqrt_schedule(), torch.zeros(1, dtype=torch.long), torch.zeros(1))


@pytest.mark.parametrize("weighting", GENERATOR_WEIGHTINGS)
@pytest.mark.parametrize("dsm_weighting", TIME_WEIGHTINGS)
def test_every_weighting_keeps_sid_finite_at_the_extremes(weighting: str, dsm_weighting: str) -> None:
    objective = Sid(SidParams(weighting=weighting, dsm_weighting=dsm_weighting))  # type: ignore[arg-type]
    check_extreme_timesteps(objective, ContextMaker())


@given(seed=st.integers(0, 50))
@settings(max_examples=10)
def test_a_sample_with_a_nan_prediction_is_dropped_not_spread(seed: int) -> None:
    make = ContextMaker(seed=seed, t=20)
    ctx = make("psi")
    full = Sid().psi_loss(make("psi"))
    ctx.x_gen = ctx.x_gen.clone()
    ctx.x_gen[0, -1, 0] = float("nan")
    out = Sid().psi_loss(ctx)
    assert torch.isfinite(out.loss)
    assert float(out.terms["dropped"]) == 1.0
    assert out.loss.item() < full.loss.item()

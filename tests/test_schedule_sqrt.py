"""The sqrt schedule against the reference values of spec diffuseq.md §2.1 and §7."""

from __future__ import annotations

import math

import pytest
import torch

from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule

TOL = 1e-6


@pytest.fixture(scope="module")
def sqrt_schedule():  # type: ignore[no-untyped-def]
    return build_sqrt_schedule(SqrtScheduleParams())


@pytest.mark.parametrize(
    ("array", "index", "expected"),
    [
        ("betas", 0, 0.01464131),
        ("betas", 1, 0.00888909),
        ("betas", 2, 0.00706818),
        ("betas", 1998, 0.55561113),
        ("betas", 1999, 0.999),
        ("alphas_cumprod", 0, 0.98535869),
        ("sqrt_one_minus_alphas_cumprod", 0, 0.12100128),
        ("alphas_cumprod", 999, 0.29578031),
        ("alphas_cumprod", 1998, 2.0204e-4),
        ("posterior_mean_coef1", 0, 1.0),
        ("posterior_mean_coef2", 0, 0.0),
        ("posterior_mean_coef1", 1999, 0.014200),
        ("posterior_mean_coef2", 1999, 0.031616),
    ],
)
def test_reference_values(sqrt_schedule, array: str, index: int, expected: float) -> None:  # type: ignore[no-untyped-def]
    assert getattr(sqrt_schedule, array)[index].item() == pytest.approx(expected, abs=TOL)


def test_tiny_alpha_bars_to_spec_precision(sqrt_schedule) -> None:  # type: ignore[no-untyped-def]
    # The spec gives these to 5 significant digits; an absolute 1e-6 would not test abar_1999 at all.
    assert sqrt_schedule.alphas_cumprod[1998].item() == pytest.approx(2.0204e-4, rel=5e-5)
    assert sqrt_schedule.alphas_cumprod[1999].item() == pytest.approx(2.0204e-7, rel=5e-5)


def test_sqrt_beta_1_is_the_step_one_noise_std(sqrt_schedule) -> None:  # type: ignore[no-untyped-def]
    assert math.sqrt(sqrt_schedule.betas[1].item()) == pytest.approx(0.094282, abs=TOL)
    assert sqrt_schedule.sampling_variance[1].item() == sqrt_schedule.betas[1].item()


def test_closed_form_alpha_bar_before_the_clipped_step(sqrt_schedule) -> None:  # type: ignore[no-untyped-def]
    T = 2000
    n = torch.arange(T - 1, dtype=torch.float64)
    closed = (1 - torch.sqrt((n + 1) / T + 1e-4)) / (1 - math.sqrt(1e-4))
    torch.testing.assert_close(sqrt_schedule.alphas_cumprod[: T - 1], closed, rtol=1e-10, atol=0)


def test_only_the_last_beta_is_clipped(sqrt_schedule) -> None:  # type: ignore[no-untyped-def]
    assert bool((sqrt_schedule.betas[:-1] < 0.999).all())
    assert sqrt_schedule.betas[-1].item() == 0.999


def test_fixed_large_variance_layout(sqrt_schedule) -> None:  # type: ignore[no-untyped-def]
    s = sqrt_schedule
    assert s.sampling_variance[0].item() == s.posterior_variance[1].item()
    assert torch.equal(s.sampling_variance[1:], s.betas[1:])


def test_model_time_is_half_the_step_at_2000(sqrt_schedule) -> None:  # type: ignore[no-untyped-def]
    t = torch.tensor([0, 1, 1490, 1999])
    assert sqrt_schedule.model_time(t).tolist() == [0.0, 0.5, 745.0, 999.5]


def test_sigma_edm_is_2_5_at_t_init(sqrt_schedule) -> None:  # type: ignore[no-untyped-def]
    # distillation.md §5: sigma_edm = sqrt((1-abar)/abar) is about 2.5 at t = 1490.
    snr = sqrt_schedule.snr(torch.tensor([1490]))
    assert (1 / snr.sqrt()).item() == pytest.approx(2.5, abs=0.01)


def test_other_lengths_follow_the_same_definition() -> None:
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=50))
    n = torch.arange(49, dtype=torch.float64)
    closed = (1 - torch.sqrt((n + 1) / 50 + 1e-4)) / (1 - math.sqrt(1e-4))
    torch.testing.assert_close(schedule.alphas_cumprod[:49], closed, rtol=1e-10, atol=0)


@pytest.mark.parametrize("bad", [0, 1, -5])
def test_params_reject_too_few_steps(bad: int) -> None:
    with pytest.raises(ValueError, match="num_timesteps"):
        SqrtScheduleParams(num_timesteps=bad)

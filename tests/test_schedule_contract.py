"""Every built-in schedule passes the public contract, and linear/cosine match their definitions."""

from __future__ import annotations

import math

import pytest
import torch

from dlmkit.errors import UserError
from dlmkit.schedules import (
    CosineScheduleParams,
    LinearScheduleParams,
    PwLinScheduleParams,
    SqrtScheduleParams,
    TruncCosScheduleParams,
    TruncLinScheduleParams,
    build_cosine_schedule,
    build_linear_schedule,
    build_pw_lin_schedule,
    build_sqrt_schedule,
    build_trunc_cos_schedule,
    build_trunc_lin_schedule,
    register_schedules,
)
from dlmkit.schedules.discrete import DiscreteSchedule
from dlmkit.testing.schedule_contract import check_schedule

BUILDERS = {
    "sqrt": lambda T: build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T)),
    "linear": lambda T: build_linear_schedule(LinearScheduleParams(num_timesteps=T)),
    "cosine": lambda T: build_cosine_schedule(CosineScheduleParams(num_timesteps=T)),
    "trunc_cos": lambda T: build_trunc_cos_schedule(TruncCosScheduleParams(num_timesteps=T)),
    "trunc_lin": lambda T: build_trunc_lin_schedule(TruncLinScheduleParams(num_timesteps=T)),
    "pw_lin": lambda T: build_pw_lin_schedule(PwLinScheduleParams(num_timesteps=T)),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("num_timesteps", [2000, 40])
def test_builtin_schedules_pass_the_contract(name: str, num_timesteps: int) -> None:
    check_schedule(BUILDERS[name](num_timesteps))


def test_linear_matches_ddpm_betas_rescaled() -> None:
    T = 2000
    betas = build_linear_schedule(LinearScheduleParams(num_timesteps=T)).betas.tolist()
    scale = 1000 / T
    start, end = scale * 1e-4, scale * 0.02
    expected = [start + (end - start) * i / (T - 1) for i in range(T)]
    assert betas == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_cosine_alpha_bar_telescopes_to_the_continuous_curve() -> None:
    T = 2000
    schedule = build_cosine_schedule(CosineScheduleParams(num_timesteps=T))

    def f(s: float) -> float:
        return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2

    unclipped = [n for n in range(T) if schedule.betas[n].item() < 0.999]
    assert len(unclipped) > T - 5, "only the very last cosine betas may be clipped"
    for n in unclipped[:: max(1, len(unclipped) // 50)]:
        assert schedule.alphas_cumprod[n].item() == pytest.approx(f((n + 1) / T) / f(0), rel=1e-9)
    assert schedule.betas[-1].item() == 0.999


@pytest.mark.parametrize("T", [2000, 40])
def test_trunc_cos_starts_noised_and_telescopes_to_its_curve(T: int) -> None:
    schedule = build_trunc_cos_schedule(TruncCosScheduleParams(num_timesteps=T))

    def f(s: float) -> float:
        return math.cos((s + 0.1) / 1.1 * math.pi / 2) ** 2

    assert schedule.betas[0].item() == pytest.approx(1 - f(0), rel=1e-12)  # DiffuSeq's second rule
    for n in range(0, T, max(1, T // 50)):  # abar_n = f(0) * prod f((i+1)/T) / f(i/T) = f(n / T)
        assert schedule.alphas_cumprod[n].item() == pytest.approx(f(n / T), rel=1e-9)


@pytest.mark.parametrize("T", [2000, 40])
def test_trunc_lin_is_the_rescaled_linear_ramp_raised_by_a_hundredth(T: int) -> None:
    betas = build_trunc_lin_schedule(TruncLinScheduleParams(num_timesteps=T)).betas.tolist()
    start, end = 1000 / T * 1e-4 + 0.01, 1000 / T * 0.02 + 0.01
    assert betas == pytest.approx([start + (end - start) * i / (T - 1) for i in range(T)], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("T", [2000, 40])
def test_pw_lin_falls_for_ten_steps_then_ramps(T: int) -> None:
    betas = build_pw_lin_schedule(PwLinScheduleParams(num_timesteps=T)).betas.tolist()
    scale = 1000 / T
    start, mid, end = scale * 1e-4 + 0.01, scale * 1e-4, scale * 0.02
    first = [start + (mid - start) * i / 9 for i in range(10)]
    second = [mid + (end - mid) * i / (T - 11) for i in range(T - 10)]
    assert betas == pytest.approx(first + second, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("params", [TruncLinScheduleParams, PwLinScheduleParams])
def test_truncated_linear_schedules_need_21_steps(params: type) -> None:
    with pytest.raises(ValueError, match="at least 21"):
        params(num_timesteps=20)


def test_linear_rejects_betas_above_one() -> None:
    with pytest.raises(ValueError, match="num_timesteps >= 21"):
        LinearScheduleParams(num_timesteps=10)


def test_discrete_schedule_rejects_bad_betas() -> None:
    with pytest.raises(UserError, match=r"beta\[1\]"):
        DiscreteSchedule(torch.tensor([0.1, 0.0, 0.2]))
    with pytest.raises(UserError, match="1-D"):
        DiscreteSchedule(torch.tensor([0.1]))


def test_contract_catches_a_broken_schedule() -> None:
    class ForgetsTheMask(DiscreteSchedule):
        def q_sample(self, x0, t, noise, mask=None):  # type: ignore[no-untyped-def]
            return super().q_sample(x0, t, noise, None)

    with pytest.raises(AssertionError, match="mask == 0"):
        check_schedule(ForgetsTheMask(build_sqrt_schedule(SqrtScheduleParams(num_timesteps=20)).betas))


def test_sample_timesteps_rejects_bad_ranges() -> None:
    schedule = BUILDERS["sqrt"](100)
    with pytest.raises(UserError, match="t_max=100"):
        schedule.sample_timesteps(4, 0, 100)
    with pytest.raises(UserError, match="t_min=5"):
        schedule.sample_timesteps(4, 5, 4)


def test_registration_hook_offers_every_diffuseq_schedule() -> None:
    seen: dict[str, tuple[object, object]] = {}

    def register(name, factory, params=None, summary="", override=False):  # type: ignore[no-untyped-def]
        assert summary
        seen[name] = (factory, params)

    register_schedules(register)
    assert set(seen) == {"sqrt", "linear", "cosine", "trunc_cos", "trunc_lin", "pw_lin"}
    for factory, params in seen.values():
        schedule = factory(params(num_timesteps=30))  # type: ignore[operator]
        assert schedule.num_timesteps == 30


def test_extract_on_another_device_caches_only_the_schedules_own_arrays() -> None:
    schedule = BUILDERS["sqrt"](30)
    meta = torch.device("meta")
    like = torch.empty(2, 3, 4, device=meta)
    t = torch.tensor([0, 29], device=meta)
    assert schedule.extract(schedule.betas, t, like).shape == (2, 1, 1)
    assert schedule.extract(schedule.betas, t, like).device == meta
    derived = schedule.betas * 2  # a caller's temporary array must not be pinned by the cache
    assert schedule.extract(derived, t, like).shape == (2, 1, 1)
    assert len(schedule._device_cache) == 1


def test_extract_broadcasts_a_scalar_timestep() -> None:
    schedule = BUILDERS["sqrt"](30)
    values = schedule.extract(schedule.alphas_cumprod, torch.tensor(5), torch.zeros(2, 3, 4, dtype=torch.float16))
    assert values.shape == (1, 1, 1) and values.dtype == torch.float16
    assert values.item() == pytest.approx(schedule.alphas_cumprod[5].item(), rel=1e-3)

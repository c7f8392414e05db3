"""DPM-Solver++ specifics: the continuous VP view of a discrete schedule and the integer-time fallback."""

from __future__ import annotations

import math

import pytest
import torch

from dlmkit.interfaces import Batch
from dlmkit.samplers import DPMSolverPPParams, DPMSolverPPSampler
from dlmkit.samplers.dpm_solver_pp import DiscreteVP
from dlmkit.samplers.noise import SeededNoise
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.testing.denoisers import SpyDenoiser
from dlmkit.testing.toy_teacher import ToyTeacherParams, build_toy_teacher


def test_grid_points_give_the_discrete_alpha_bar() -> None:
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=100))
    vp = DiscreteVP(schedule.betas)
    for n in (0, 1, 37, 98, 99):
        t = (n + 1) / 100
        assert vp.alpha(t) ** 2 == pytest.approx(schedule.alphas_cumprod[n].item(), rel=1e-9)
        assert vp.alpha(t) ** 2 + vp.sigma(t) ** 2 == pytest.approx(1.0)
    mid = vp.log_alpha(0.505)  # halfway between n = 49 and n = 50
    ends = 0.5 * math.log(schedule.alphas_cumprod[49].item()), 0.5 * math.log(schedule.alphas_cumprod[50].item())
    assert mid == pytest.approx(sum(ends) / 2, rel=1e-9)
    assert vp.lam(0.2) > vp.lam(0.8), "half log-SNR must fall as t rises"


def test_time_grid_is_uniform_from_1_to_1_over_n() -> None:
    grid = DPMSolverPPSampler(DPMSolverPPParams(steps=4)).time_grid(2000)
    assert grid == pytest.approx([1.0, 0.75012500, 0.50025, 0.250375, 0.0005])


def test_models_without_float_time_get_the_nearest_integer_step() -> None:
    T = 20
    torch.manual_seed(0)
    model = build_toy_teacher(ToyTeacherParams(num_timesteps=T), vocab_size=9, seq_len=4).eval()
    spy = SpyDenoiser(model)  # no denoise_at_model_time
    batch = Batch(torch.tensor([[1, 2, 3, 4]]), torch.tensor([[0, 1, 1, 1]]))
    DPMSolverPPSampler(DPMSolverPPParams(steps=4)).sample(
        spy, batch, build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T)), SeededNoise(0)
    )
    # grid 1, 0.7625, 0.525, 0.2875 -> t*N = 20 (clamped to 19), 15.25, 10.5, 5.75
    assert [int(t[0]) for t in spy.times] == [19, 15, 10, 6]
    assert all(not t.is_floating_point() for t in spy.times)

"""The official ``--step`` loop visits exactly the timesteps of spec diffuseq.md §2.9 and §7."""

from __future__ import annotations

import itertools

import pytest
import torch

from dlmkit.errors import UserError
from dlmkit.interfaces import Batch
from dlmkit.samplers import DDIMGapParams, DDIMGapSampler
from dlmkit.samplers.noise import SeededNoise
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.testing.denoisers import SpyDenoiser
from dlmkit.testing.toy_teacher import ToyTeacherParams, build_toy_teacher


def test_step_100_visits_1999_1979_down_to_19() -> None:
    visited = DDIMGapSampler(DDIMGapParams(steps=100)).timesteps(2000)
    assert visited[:3] == [1999, 1979, 1959]
    assert visited[-1] == 19
    assert len(visited) == 100
    assert all(a - b == 20 for a, b in itertools.pairwise(visited))


@pytest.mark.parametrize(("steps", "last"), [(10, 199), (1000, 1), (100, 19), (2000, 0)])
def test_last_visited_timestep(steps: int, last: int) -> None:
    assert DDIMGapSampler(DDIMGapParams(steps=steps)).timesteps(2000)[-1] == last


def test_uneven_steps_visit_one_more_and_nfe_says_so() -> None:
    sampler = DDIMGapSampler(DDIMGapParams(steps=3))
    assert sampler.timesteps(2000) == [1999, 1333, 667, 1]
    assert sampler.nfe(2000) == 4


def test_the_network_sees_the_visited_timesteps_at_full_length() -> None:
    torch.manual_seed(0)
    model = build_toy_teacher(ToyTeacherParams(), vocab_size=11, seq_len=5).eval()
    schedule = build_sqrt_schedule(SqrtScheduleParams())
    batch = Batch(torch.tensor([[3, 4, 5, 6, 7]]), torch.tensor([[0, 0, 1, 1, 1]]))
    spy = SpyDenoiser(model)
    DDIMGapSampler(DDIMGapParams(steps=10)).sample(spy, batch, schedule, SeededNoise(0))
    assert [int(t[0]) for t in spy.times] == list(range(1999, 0, -200))


def test_the_last_update_steps_back_one_timestep_only() -> None:
    # With step = 10 the final update uses abar_prev = abar_198 (about 0.69), not 1.
    schedule = build_sqrt_schedule(SqrtScheduleParams())
    assert schedule.alphas_cumprod_prev[199].item() == schedule.alphas_cumprod[198].item()
    assert schedule.alphas_cumprod[198].item() == pytest.approx(0.69, abs=0.01)


def test_more_steps_than_timesteps_is_a_user_error() -> None:
    with pytest.raises(UserError, match="steps = 30"):
        DDIMGapSampler(DDIMGapParams(steps=30)).timesteps(20)

"""The correct DDIM: evenly spaced steps from T-1 that reach t = 0 and end on a clean estimate."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dlmkit.errors import UserError
from dlmkit.interfaces import Batch
from dlmkit.interfaces.teacher import Denoiser
from dlmkit.samplers import DDIMParams, DDIMSampler
from dlmkit.samplers.condition import AnchoredCondition
from dlmkit.samplers.noise import ReplayNoise, SeededNoise
from dlmkit.samplers.one_step import OneStepParams, OneStepSampler
from dlmkit.schedules.discrete import DiscreteSchedule
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.testing.denoisers import OracleDenoiser, SpyDenoiser
from dlmkit.testing.toy_teacher import ToyTeacherParams, build_toy_teacher

T = 50


@given(st.integers(2, 200), st.data())
def test_timesteps_are_distinct_decreasing_and_span_both_ends(total: int, data: st.DataObject) -> None:
    steps = data.draw(st.integers(2, total))
    visited = DDIMSampler(DDIMParams(steps=steps)).timesteps(total)
    assert len(visited) == steps
    assert visited[0] == total - 1 and visited[-1] == 0
    assert all(a > b for a, b in itertools.pairwise(visited))


def test_one_step_ddim_jumps_from_t_max_to_clean() -> None:
    assert DDIMSampler(DDIMParams(steps=1)).timesteps(2000) == [1999]
    with pytest.raises(UserError):
        DDIMSampler(DDIMParams(steps=2001)).timesteps(2000)


def _setup() -> tuple[Batch, DiscreteSchedule]:
    batch = Batch(torch.tensor([[5, 6, 7, 8, 9, 10]]), torch.tensor([[0, 0, 1, 1, 1, 1]]))
    return batch, build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))


def test_the_network_is_called_down_to_t_zero() -> None:
    batch, schedule = _setup()
    torch.manual_seed(0)
    spy = SpyDenoiser(build_toy_teacher(ToyTeacherParams(num_timesteps=T), vocab_size=12, seq_len=6).eval())
    DDIMSampler(DDIMParams(steps=5)).sample(spy, batch, schedule, SeededNoise(0))
    assert [int(t[0]) for t in spy.times] == [49, 37, 24, 12, 0]


def test_final_state_is_the_x0_prediction() -> None:
    # abar_prev = 1 at the end, so without rounding the last state is the oracle's x0 itself:
    # a table where argmax of the logits differs from the answer unless x0 is met exactly.
    batch, schedule = _setup()
    table = torch.randn(12, 3, generator=torch.Generator().manual_seed(0))
    answer = torch.tensor([[0, 0, 1, 2, 3, 4]])
    oracle = OracleDenoiser(table, answer, T)
    ids = DDIMSampler(DDIMParams(steps=3, round_every_step=False)).sample(oracle, batch, schedule, SeededNoise(1))
    assert torch.equal(ids[0, 2:], answer[0, 2:])


def test_eta_zero_is_deterministic_given_the_start() -> None:
    batch, schedule = _setup()
    torch.manual_seed(0)
    model = build_toy_teacher(ToyTeacherParams(num_timesteps=T), vocab_size=12, seq_len=6).eval()
    start = torch.randn(1, 6, 16, generator=torch.Generator().manual_seed(3))
    sampler = DDIMSampler(DDIMParams(steps=6))
    first = sampler.sample(model, batch, schedule, ReplayNoise(start))  # no step noise may be requested
    assert torch.equal(first, sampler.sample(model, batch, schedule, ReplayNoise(start)))
    stochastic = DDIMSampler(DDIMParams(steps=6, eta=1.0))
    with pytest.raises(UserError, match="ran out"):
        stochastic.sample(model, batch, schedule, ReplayNoise(start))


@given(st.integers(2, 200), st.data())
def test_t_start_visits_from_it_down_to_zero(total: int, data: st.DataObject) -> None:
    start = data.draw(st.integers(1, total - 1))
    steps = data.draw(st.integers(2, start + 1))
    visited = DDIMSampler(DDIMParams(steps=steps, t_start=start)).timesteps(total)
    assert len(visited) == steps and visited[0] == start and visited[-1] == 0
    assert all(a > b for a, b in itertools.pairwise(visited))


def test_t_start_begins_where_the_one_step_student_begins() -> None:
    # A one-step DDIM from t_start calls the model once, on the one-step sampler's own input.
    batch, schedule = _setup()
    torch.manual_seed(0)
    model = build_toy_teacher(ToyTeacherParams(num_timesteps=T), vocab_size=12, seq_len=6).eval()
    spy = SpyDenoiser(model, keep_inputs=True)
    start = torch.randn(1, 6, 16, generator=torch.Generator().manual_seed(3))
    end = DDIMSampler(DDIMParams(steps=1, t_start=30, round_every_step=False)).final_state(
        spy, batch, schedule, ReplayNoise(start)
    )
    assert [int(t[0]) for t in spy.times] == [30]
    cond = AnchoredCondition.from_batch(spy, batch)
    x_init = OneStepSampler(OneStepParams(t_init=30)).initial_state(cond, schedule, start)
    assert torch.equal(spy.inputs[0], x_init)
    assert torch.allclose(end, cond.anchor(model.denoise(x_init, cond.timesteps(30))))


def test_t_start_outside_the_schedule_is_refused() -> None:
    batch, schedule = _setup()
    model = build_toy_teacher(ToyTeacherParams(num_timesteps=T), vocab_size=12, seq_len=6).eval()
    with pytest.raises(UserError, match="t_start = 50"):
        DDIMSampler(DDIMParams(steps=2, t_start=T)).sample(model, batch, schedule, SeededNoise(0))


class _RoundLog(SpyDenoiser):
    """A spy that also records the timestep of the network call before each ``round``."""

    def __init__(self, model: Denoiser) -> None:
        super().__init__(model)
        self.rounded_at: list[int] = []

    def round(self, x: torch.Tensor) -> torch.Tensor:
        self.rounded_at.append(int(self.times[-1][0]))
        return super().round(x)


@pytest.mark.parametrize(
    ("clamp_step", "clamp_first", "expected"),
    [(0, True, [49, 37, 24, 12, 0]), (24, True, [49, 37, 24]), (24, False, [24, 12, 0]), (50, True, [])],
)
def test_clamp_step_limits_rounding_to_one_end_of_the_chain(
    clamp_step: int, clamp_first: bool, expected: list[int]
) -> None:
    batch, schedule = _setup()
    torch.manual_seed(0)
    log = _RoundLog(build_toy_teacher(ToyTeacherParams(num_timesteps=T), vocab_size=12, seq_len=6).eval())
    DDIMSampler(DDIMParams(steps=5, clamp_step=clamp_step, clamp_first=clamp_first)).final_state(
        log, batch, schedule, SeededNoise(0)
    )
    assert log.rounded_at == expected


def test_a_clamp_step_past_the_chain_is_the_unrounded_chain() -> None:
    batch, schedule = _setup()
    torch.manual_seed(0)
    model = build_toy_teacher(ToyTeacherParams(num_timesteps=T), vocab_size=12, seq_len=6).eval()

    def end(params: DDIMParams) -> torch.Tensor:
        return DDIMSampler(params).final_state(model, batch, schedule, SeededNoise(4))

    unrounded = end(DDIMParams(steps=5, round_every_step=False))
    assert torch.equal(end(DDIMParams(steps=5, clamp_step=T)), unrounded)
    assert not torch.equal(end(DDIMParams(steps=5, clamp_step=24)), unrounded)

"""The DLM-One student samplers: one call at t_init, and Table 4's re-noise-and-denoise steps."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dlmkit.errors import UserError
from dlmkit.interfaces import Batch
from dlmkit.samplers import OneStepParams, OneStepSampler, StudentMultistepParams, StudentMultistepSampler
from dlmkit.samplers.noise import RecordingNoise, ReplayNoise, SeededNoise
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.testing.denoisers import SpyDenoiser
from dlmkit.testing.strategies import condition_masks
from dlmkit.testing.toy_teacher import ToyTeacher, ToyTeacherParams, build_toy_teacher

VOCAB, LENGTH = 15, 6


@pytest.fixture(scope="module")
def model() -> ToyTeacher:
    torch.manual_seed(0)
    return build_toy_teacher(ToyTeacherParams(), vocab_size=VOCAB, seq_len=LENGTH).eval()


@pytest.fixture(scope="module")
def schedule():  # type: ignore[no-untyped-def]
    return build_sqrt_schedule(SqrtScheduleParams())


BATCH = Batch(torch.tensor([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]), torch.tensor([[0, 0, 1, 1, 1, 1]] * 2))


def test_input_is_scaled_noise_on_the_target_and_the_clean_condition(model: ToyTeacher, schedule) -> None:  # type: ignore[no-untyped-def]
    zeta = torch.randn(2, LENGTH, 16, generator=torch.Generator().manual_seed(1))
    spy = SpyDenoiser(model, keep_inputs=True)
    OneStepSampler().sample(spy, BATCH, schedule, ReplayNoise(zeta))
    (x_init,), (t,) = spy.inputs, spy.times
    assert t.tolist() == [1490, 1490]
    s = (1 - schedule.alphas_cumprod[1490]).sqrt().item()
    torch.testing.assert_close(x_init[:, 2:], s * zeta[:, 2:])
    torch.testing.assert_close(x_init[:, :2], model.embed(BATCH.input_ids[:, :2]))


def test_output_is_argmax_of_the_condition_replaced_prediction(model: ToyTeacher, schedule) -> None:  # type: ignore[no-untyped-def]
    zeta = torch.randn(2, LENGTH, 16, generator=torch.Generator().manual_seed(1))
    ids = OneStepSampler().sample(model, BATCH, schedule, ReplayNoise(zeta))
    x_g = OneStepSampler().generate(model, BATCH, schedule, zeta)
    with torch.no_grad():
        assert torch.equal(ids[:, 2:], model.logits(x_g[:, 2:]).argmax(-1))
    assert torch.equal(ids[:, :2], BATCH.input_ids[:, :2])


def test_generate_is_differentiable_on_the_target_only(model: ToyTeacher, schedule) -> None:  # type: ignore[no-untyped-def]
    zeta = torch.randn(2, LENGTH, 16, generator=torch.Generator().manual_seed(1))
    x_g = OneStepSampler().generate(model, BATCH, schedule, zeta)
    assert x_g.requires_grad
    model.zero_grad()
    x_g[:, :2].sum().backward(retain_graph=True)
    assert all(p.grad is None or not p.grad.any() for p in model.parameters()), "gradient reached the condition"
    x_g[:, 2:].sum().backward()
    assert any(p.grad is not None and p.grad.any() for p in model.parameters())
    model.zero_grad()


@given(condition_masks(3, LENGTH), st.integers(0, 2**16))
def test_condition_positions_echo_the_input(mask: torch.Tensor, seed: int) -> None:
    torch.manual_seed(0)
    model = build_toy_teacher(ToyTeacherParams(num_timesteps=100), vocab_size=VOCAB, seq_len=LENGTH).eval()
    ids = torch.randint(0, VOCAB, (3, LENGTH), generator=torch.Generator().manual_seed(seed))
    out = OneStepSampler(OneStepParams(t_init=60)).sample(
        model, Batch(ids, mask), build_sqrt_schedule(SqrtScheduleParams(num_timesteps=100)), SeededNoise(seed)
    )
    assert torch.equal(out[mask == 0], ids[mask == 0])


def test_t_init_outside_the_schedule_is_a_user_error(model: ToyTeacher) -> None:
    small = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=2000))
    with pytest.raises(UserError, match="t_init = 2000"):
        OneStepSampler(OneStepParams(t_init=2000)).sample(model, BATCH, small, SeededNoise(0))


@pytest.mark.parametrize(("steps", "times"), [(1, [1490]), (2, [1490, 745]), (4, [1490, 1118, 745, 372])])
def test_multistep_times_are_evenly_spaced_below_t_init(steps: int, times: list[int]) -> None:
    sampler = StudentMultistepSampler(StudentMultistepParams(steps=steps))
    assert sampler.timesteps() == times
    assert sampler.nfe() == steps


def test_multistep_renoises_its_own_output(model: ToyTeacher, schedule) -> None:  # type: ignore[no-untyped-def]
    spy = SpyDenoiser(model, keep_inputs=True)
    recording = RecordingNoise(SeededNoise(3))
    StudentMultistepSampler(StudentMultistepParams(steps=2)).sample(spy, BATCH, schedule, recording)
    assert [int(t[0]) for t in spy.times] == [1490, 745]
    x_g = OneStepSampler().generate(model, BATCH, schedule, recording.initials[0]).detach()
    t = torch.full((2,), 745)
    expected = schedule.q_sample(x_g, t, recording.steps[0], BATCH.input_mask)
    torch.testing.assert_close(spy.inputs[1], expected)


def test_one_multistep_step_is_the_one_step_sampler(model: ToyTeacher, schedule) -> None:  # type: ignore[no-untyped-def]
    one = OneStepSampler().sample(model, BATCH, schedule, SeededNoise(5))
    multi = StudentMultistepSampler(StudentMultistepParams(steps=1)).sample(model, BATCH, schedule, SeededNoise(5))
    assert torch.equal(one, multi)


def test_multistep_params_reject_more_steps_than_t_init() -> None:
    with pytest.raises(ValueError, match="t_init"):
        StudentMultistepParams(t_init=3, steps=4)

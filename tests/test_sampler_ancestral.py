"""Ancestral sampler specifics: clamp_step rounding, respacing, top_p noise truncation."""

from __future__ import annotations

import pytest
import torch

from dlmkit.errors import UserError
from dlmkit.interfaces import Batch
from dlmkit.samplers import AncestralParams, AncestralSampler
from dlmkit.samplers.ancestral import truncated_step_noise
from dlmkit.samplers.noise import SeededNoise
from dlmkit.schedules.respace import space_timesteps
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.testing.denoisers import SpyDenoiser
from dlmkit.testing.toy_teacher import ToyTeacherParams, build_toy_teacher

T = 40


def test_clamp_first_rounds_from_clamp_step_up() -> None:
    first = AncestralSampler(AncestralParams(clamp_step=10))
    assert [first.rounds_at(t) for t in (0, 9, 10, 39)] == [False, False, True, True]
    last = AncestralSampler(AncestralParams(clamp_step=10, clamp_first=False))
    assert [last.rounds_at(t) for t in (0, 10, 11, 39)] == [True, True, False, False]
    assert AncestralSampler().rounds_at(0), "the default rounds at every step, t = 0 included"
    assert not AncestralSampler(AncestralParams(rounding=False)).rounds_at(5)


def _model_and_batch() -> tuple[object, Batch]:
    torch.manual_seed(0)
    model = build_toy_teacher(ToyTeacherParams(num_timesteps=T), vocab_size=13, seq_len=6).eval()
    return model, Batch(torch.tensor([[1, 2, 3, 4, 5, 6]] * 2), torch.tensor([[0, 0, 0, 1, 1, 1]] * 2))


def test_rounding_is_applied_where_clamp_step_says() -> None:
    model, batch = _model_and_batch()
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    calls: list[int] = []

    class CountRounds(SpyDenoiser):
        def round(self, x):  # type: ignore[no-untyped-def]
            calls.append(int(self.times[-1][0]))
            return super().round(x)

    AncestralSampler(AncestralParams(clamp_step=25)).sample(CountRounds(model), batch, schedule, SeededNoise(0))  # type: ignore[arg-type]
    assert calls == list(range(39, 24, -1))


def test_respaced_chain_calls_the_network_at_original_timesteps() -> None:
    model, batch = _model_and_batch()
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    spy = SpyDenoiser(model)  # type: ignore[arg-type]
    sampler = AncestralSampler(AncestralParams(steps=5))
    sampler.sample(spy, batch, schedule, SeededNoise(0))
    assert [int(t[0]) for t in spy.times] == sorted(space_timesteps(T, [5]), reverse=True) == [39, 29, 20, 10, 0]
    assert sampler.nfe() == 5


def test_nfe_defaults_to_all_timesteps() -> None:
    sampler = AncestralSampler()
    with pytest.raises(UserError, match="num_timesteps"):
        sampler.nfe()
    assert sampler.nfe(2000) == 2000
    model, batch = _model_and_batch()
    sampler.sample(model, batch, build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T)), SeededNoise(0))  # type: ignore[arg-type]
    assert sampler.nfe() == T


def test_top_p_truncation_redraws_in_the_official_order() -> None:
    like = torch.zeros(3, 4, 5)
    ours = truncated_step_noise(SeededNoise(9), 0, like, top_p=0.5)
    torch.manual_seed(9)
    noise = torch.randn_like(like)
    replace = noise.abs() > 0.5
    while replace.any():
        noise[replace] = torch.randn_like(noise[replace])
        replace = noise.abs() > 0.5
    assert torch.equal(ours, noise)
    assert bool((ours.abs() <= 0.5).all())


def test_top_p_off_leaves_noise_alone() -> None:
    like = torch.zeros(3, 4, 5)
    assert torch.equal(truncated_step_noise(SeededNoise(9), 0, like, -1.0), SeededNoise(9).initial(like.shape, like))


def test_bad_steps_are_rejected() -> None:
    with pytest.raises(ValueError, match="steps"):
        AncestralParams(steps=1)
    model, batch = _model_and_batch()
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    with pytest.raises(UserError, match="steps = 41"):
        AncestralSampler(AncestralParams(steps=41)).sample(model, batch, schedule, SeededNoise(0))  # type: ignore[arg-type]

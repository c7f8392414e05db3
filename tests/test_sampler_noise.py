"""Noise sources: the official draw order, exact replay, and clear errors on a mismatched replay."""

from __future__ import annotations

import pytest
import torch

from dlmkit.errors import UserError
from dlmkit.interfaces import NoiseSource
from dlmkit.samplers.noise import RecordingNoise, ReplayNoise, SeededNoise

SHAPE = torch.Size([2, 5, 3])


def test_seeded_noise_follows_the_global_rng_order() -> None:
    like = torch.zeros(SHAPE)
    source = SeededNoise(123)
    ours = [source.initial(SHAPE, like), *(source.step(i, SHAPE, like) for i in range(3))]
    torch.manual_seed(123)  # what the official decoder's set_seed(seed2) + randn_like amounts to on CPU
    official = [torch.randn_like(like) for _ in range(4)]
    for a, b in zip(ours, official, strict=True):
        assert torch.equal(a, b)


def test_seeded_noise_accepts_a_generator_and_follows_dtype() -> None:
    g = torch.Generator().manual_seed(7)
    noise = SeededNoise(g).initial(SHAPE, torch.zeros(SHAPE, dtype=torch.float64))
    assert noise.dtype == torch.float64
    assert torch.equal(noise, torch.randn(SHAPE, generator=torch.Generator().manual_seed(7), dtype=torch.float64))
    with pytest.raises(UserError, match="seed"):
        SeededNoise("7")  # type: ignore[arg-type]


def test_recording_then_replay_hands_back_the_same_tensors() -> None:
    like = torch.zeros(SHAPE)
    recording = RecordingNoise(SeededNoise(0))
    drawn = [recording.initial(SHAPE, like), recording.step(0, SHAPE, like), recording.step(0, torch.Size([4]), like)]
    replay = recording.replay()
    assert isinstance(recording, NoiseSource) and isinstance(replay, NoiseSource)
    assert not replay.exhausted
    again = [replay.initial(SHAPE, like), replay.step(0, SHAPE, like), replay.step(0, torch.Size([4]), like)]
    for a, b in zip(drawn, again, strict=True):
        assert torch.equal(a, b)
    assert replay.exhausted


def test_recorded_tensors_are_copies() -> None:
    like = torch.zeros(SHAPE)
    recording = RecordingNoise(SeededNoise(0))
    first = recording.initial(SHAPE, like)
    expected = first.clone()
    first.add_(1.0)  # a sampler editing its noise in place must not change the record
    assert torch.equal(recording.initials[0], expected)


def test_replay_errors_name_the_draw() -> None:
    like = torch.zeros(SHAPE)
    replay = ReplayNoise(torch.zeros(SHAPE), [torch.zeros(SHAPE)])
    with pytest.raises(UserError, match=r"initial draw #1 has shape \(2, 5, 3\)"):
        replay.initial(torch.Size([1, 5, 3]), like)
    replay.initial(SHAPE, like)
    replay.step(0, SHAPE, like)
    with pytest.raises(UserError, match=r"step draw #2 but only 1"):
        replay.step(1, SHAPE, like)


def test_replay_accepts_one_initial_per_batch() -> None:
    like = torch.zeros(SHAPE)
    replay = ReplayNoise([torch.zeros(SHAPE), torch.ones(SHAPE)])
    assert replay.initial(SHAPE, like).sum() == 0
    assert replay.initial(SHAPE, like).sum() == SHAPE.numel()

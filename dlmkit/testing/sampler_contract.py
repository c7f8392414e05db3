"""Contract checks any sampler plugin can run in its own tests: ``check_sampler(sampler, model, batch, schedule)``.

They hold for every sampler dlmkit ships: a recorded run replays exactly, the condition part
of the output echoes the input, target ids in the batch are never read, ``nfe()`` counts the
network calls, and old states are not kept alive.
"""

from __future__ import annotations

from typing import Any

import torch

from dlmkit.interfaces.dataset import Batch
from dlmkit.interfaces.sampler import Sampler
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.teacher import ContinuousTimeDenoiser, Denoiser
from dlmkit.samplers.noise import RecordingNoise, SeededNoise
from dlmkit.testing.denoisers import ModelTimeSpyDenoiser, SpyDenoiser


def _nfe(sampler: Sampler, schedule: NoiseSchedule) -> int:
    nfe: Any = sampler.nfe
    try:
        return int(nfe(schedule.num_timesteps))
    except TypeError:
        return int(nfe())


def check_sampler(
    sampler: Sampler, model: Denoiser, batch: Batch, schedule: NoiseSchedule, seed: int = 0, max_alive: int = 3
) -> torch.Tensor:
    """Run the checks; raises ``AssertionError`` naming the broken property, returns the sampled ids."""
    assert isinstance(sampler, Sampler), "sampler does not satisfy dlmkit.interfaces.Sampler"
    spy_type = ModelTimeSpyDenoiser if isinstance(model, ContinuousTimeDenoiser) else SpyDenoiser
    spy = spy_type(model)
    recording = RecordingNoise(SeededNoise(seed))
    ids = sampler.sample(spy, batch, schedule, recording)

    expected = tuple(batch.input_ids.shape)
    assert ids.shape == expected, f"output shape {tuple(ids.shape)} != input shape {expected}"
    assert ids.dtype == torch.long, f"output ids must be int64, got {ids.dtype}"
    assert bool((ids >= 0).all()) and bool((ids < model.vocab_size).all()), "output ids outside the vocabulary"
    condition = batch.input_mask == 0
    assert torch.equal(ids[condition], batch.input_ids[condition]), "condition positions do not echo the input ids"
    assert spy.calls == _nfe(sampler, schedule), f"nfe() says {_nfe(sampler, schedule)} but the model ran {spy.calls}x"
    assert spy.max_alive <= max_alive, f"{spy.max_alive} earlier states were alive at once: states are being kept"

    replay = recording.replay()
    again = sampler.sample(model, batch, schedule, replay)
    assert torch.equal(again, ids), "replaying the recorded noise did not reproduce the output"
    assert replay.exhausted, "the replay used fewer noise draws than the recorded run"

    scrambled = torch.where(condition, batch.input_ids, (batch.input_ids + 1) % model.vocab_size)
    other = sampler.sample(model, Batch(scrambled, batch.input_mask), schedule, recording.replay())
    assert torch.equal(other, ids), "the output depends on the target ids in the batch (the answer leaked)"
    return ids

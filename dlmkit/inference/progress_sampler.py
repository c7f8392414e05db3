"""A sampler wrapper that reports each finished batch, so long generations can show progress.

``generate`` times whole runs and has no callback; wrapping the sampler gives progress without
changing it.  The report runs inside the timed region but costs microseconds per batch.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from dlmkit.interfaces import Batch, Denoiser, NoiseSchedule, Sampler
from dlmkit.interfaces.sampler import NoiseSource


class ProgressSampler:
    """Delegates to ``inner`` and calls ``on_batch(len(batch))`` after every batch it samples."""

    def __init__(self, inner: Sampler, on_batch: Callable[[int], None]) -> None:
        self.inner = inner
        self.on_batch = on_batch

    def sample(self, model: Denoiser, batch: Batch, schedule: NoiseSchedule, noise: NoiseSource) -> Tensor:
        ids = self.inner.sample(model, batch, schedule, noise)
        self.on_batch(len(batch))
        return ids

    def nfe(self, num_timesteps: int | None = None) -> int:
        return self.inner.nfe(num_timesteps)

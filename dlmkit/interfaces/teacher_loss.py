"""The contracts of teacher training: the loss and the timestep sampler a ``train_teacher`` stage uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

from dlmkit.interfaces.dataset import Batch
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.teacher import Teacher


@runtime_checkable
class TeacherLoss(Protocol):
    """A teacher's training loss, per example.

    The stage draws the loss's Gaussian noise itself (``noise_draws`` tensors shaped like the
    embedded batch, from one seeded global draw), so that N data-parallel processes train exactly as
    one process does.
    """

    noise_draws: int

    def __call__(
        self, teacher: Teacher, schedule: NoiseSchedule, batch: Batch, t: Tensor, noises: Sequence[Tensor]
    ) -> Mapping[str, Tensor]:
        """Per-example terms ``[B]``; ``loss`` is the one trained on, the others are logged."""
        ...


@runtime_checkable
class TimestepSampler(Protocol):
    """Which timesteps a teacher-training batch sees, with importance weights that keep the loss unbiased."""

    def sample(self, batch: int, generator: torch.Generator, device: torch.device) -> tuple[Tensor, Tensor]:
        """``(t, weights)`` for ``batch`` examples."""
        ...

    def update(self, t: Tensor, losses: Tensor) -> None:
        """Learn from the per-example losses of the last step (a no-op for samplers that do not)."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

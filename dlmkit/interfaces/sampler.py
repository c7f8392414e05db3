"""The sampler contract: from condition ids to generated target ids."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from dlmkit.interfaces.dataset import Batch
from dlmkit.interfaces.injector import ConditioningInjector
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.teacher import Denoiser


@runtime_checkable
class NoiseSource(Protocol):
    """Where a sampler's Gaussian noise comes from; replaying one reproduces a run exactly."""

    def initial(self, shape: torch.Size, like: Tensor) -> Tensor:
        """The starting noise ``x_T``."""
        ...

    def step(self, index: int, shape: torch.Size, like: Tensor) -> Tensor:
        """The fresh noise of the ``index``-th update (0 = first update)."""
        ...


@runtime_checkable
class Sampler(Protocol):
    """Generates the target part of packed sequences; the condition part is given in ``batch``.

    Returns token ids ``[B, L]`` for the whole sequence (condition positions echo the input).
    """

    def sample(self, model: Denoiser, batch: Batch, schedule: NoiseSchedule, noise: NoiseSource) -> Tensor: ...

    def nfe(self, num_timesteps: int | None = None) -> int:
        """Network evaluations per sequence (``num_timesteps``: for samplers whose count follows the schedule)."""
        ...


@runtime_checkable
class OneStepGenerator(Protocol):
    """A sampler with a one-call path from noise that keeps the graph: what a ``distill`` stage trains through.

    A distill stage's student is the recipe's ``[sampler]``, so the sampler that is trained is the sampler
    that is evaluated; ``one_step`` is one, and ``student_multistep`` is one through its first call.
    """

    def generate(
        self,
        model: Denoiser,
        batch: Batch,
        schedule: NoiseSchedule,
        zeta: Tensor,
        injector: ConditioningInjector | None = None,
    ) -> Tensor:
        """Output embeddings ``[B, L, D]`` for noise ``zeta`` ``[B, L, D]``, differentiable in ``model``.

        With an ``injector`` the condition positions are what its ``generated`` makes of them (the losses
        see those); without one the condition is kept clean, as when sampling.
        """
        ...

"""Noise sources for samplers: seeded, replayed from tensors, or recorded for a later replay.

A sampler asks for ``initial`` once per batch (``x_T``) and ``step`` once per update, in the
order the official DiffuSeq loop calls ``randn_like``; a sampler that rejects and redraws
values (``top_p``) asks again with the same index.  Replays therefore follow call order, so a
recorded run is reproduced exactly, here or by feeding the tensors to another implementation.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dlmkit.errors import UserError
from dlmkit.interfaces.sampler import NoiseSource


class SeededNoise:
    """Standard normal draws from one generator, in call order.

    Given an integer seed, the generator is created on the device of the first tensor it
    draws for, so a CUDA run draws CUDA random numbers like the official ``set_seed`` +
    ``randn_like``.  Reuse one instance across batches to continue one stream, as the official
    decoder does.
    """

    def __init__(self, seed: int | torch.Generator) -> None:
        if isinstance(seed, torch.Generator):
            self._generator: torch.Generator | None = seed
            self.seed: int | None = None
        elif isinstance(seed, int) and not isinstance(seed, bool):
            self._generator = None
            self.seed = seed
        else:
            raise UserError(f"SeededNoise needs an int seed or a torch.Generator, got {type(seed).__name__}")

    def _draw(self, shape: torch.Size, like: Tensor) -> Tensor:
        if self._generator is None:
            assert self.seed is not None
            self._generator = torch.Generator(device=like.device).manual_seed(self.seed)
        generator = self._generator
        noise = torch.randn(tuple(shape), generator=generator, device=generator.device, dtype=like.dtype)
        return noise.to(like.device)

    def initial(self, shape: torch.Size, like: Tensor) -> Tensor:
        return self._draw(shape, like)

    def step(self, index: int, shape: torch.Size, like: Tensor) -> Tensor:
        return self._draw(shape, like)


class ReplayNoise:
    """Hands back given tensors in call order: ``initial`` from ``initial``, ``step`` from ``steps``.

    ``initial`` may be one tensor (one batch) or a sequence (one per batch).  A shape mismatch
    or running out means the run being replayed differs from the one recorded, which is an error.
    """

    def __init__(self, initial: Tensor | Sequence[Tensor], steps: Sequence[Tensor] = ()) -> None:
        self._initial = [initial] if isinstance(initial, Tensor) else list(initial)
        self._steps = list(steps)
        self._next_initial = 0
        self._next_step = 0

    @staticmethod
    def _take(pool: list[Tensor], position: int, what: str, shape: torch.Size, like: Tensor) -> Tensor:
        if position >= len(pool):
            raise UserError(
                f"ReplayNoise ran out: the sampler asked for {what} draw #{position + 1} but only {len(pool)} "
                "were given; replay with the same sampler, steps and batch as the recording"
            )
        tensor = pool[position]
        if tuple(tensor.shape) != tuple(shape):
            raise UserError(
                f"ReplayNoise: {what} draw #{position + 1} has shape {tuple(tensor.shape)} but the sampler asked "
                f"for {tuple(shape)}"
            )
        return tensor.to(device=like.device, dtype=like.dtype)

    def initial(self, shape: torch.Size, like: Tensor) -> Tensor:
        tensor = self._take(self._initial, self._next_initial, "initial", shape, like)
        self._next_initial += 1
        return tensor

    def step(self, index: int, shape: torch.Size, like: Tensor) -> Tensor:
        tensor = self._take(self._steps, self._next_step, "step", shape, like)
        self._next_step += 1
        return tensor

    @property
    def exhausted(self) -> bool:
        """Whether every given tensor was used (a replay that leaves some over did not match)."""
        return self._next_initial == len(self._initial) and self._next_step == len(self._steps)


class RecordingNoise:
    """Wraps another source and keeps a copy of everything it produced, in call order."""

    def __init__(self, source: NoiseSource) -> None:
        self.source = source
        self.initials: list[Tensor] = []
        self.steps: list[Tensor] = []

    def initial(self, shape: torch.Size, like: Tensor) -> Tensor:
        noise = self.source.initial(shape, like)
        self.initials.append(noise.detach().clone())
        return noise

    def step(self, index: int, shape: torch.Size, like: Tensor) -> Tensor:
        noise = self.source.step(index, shape, like)
        self.steps.append(noise.detach().clone())
        return noise

    def replay(self) -> ReplayNoise:
        """A source that hands back exactly what was recorded."""
        return ReplayNoise(list(self.initials), list(self.steps))

"""What the teacher contract's checks share: failing with a message, a mode switch that is undone, and inputs
made on the teacher's own device and dtype."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor

from dlmkit.interfaces import Teacher
from dlmkit.testing.objective_contract import ContractViolation
from dlmkit.testing.strategies import seeded_normal


def fail(message: str) -> None:
    raise ContractViolation(message)


@contextmanager
def mode(teacher: Teacher, training: bool) -> Iterator[None]:
    was = bool(teacher.training)
    teacher.train(training)
    try:
        yield
    finally:
        teacher.train(was)


def like(teacher: Teacher) -> Tensor:
    return teacher.embedding_weight.detach()


def noisy_input(teacher: Teacher, batch: int, length: int, seed: int, scale: float) -> Tensor:
    weight = like(teacher)
    x = seeded_normal((batch, length, teacher.embed_dim), seed, dtype=torch.float32, scale=scale)
    return x.to(device=weight.device, dtype=weight.dtype)


def close(a: Tensor, b: Tensor, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    return bool(torch.allclose(a.float(), b.float(), rtol=rtol, atol=atol))

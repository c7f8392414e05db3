"""Device-correct random draws: draw on the generator's device, then move to where the tensor is needed.

PyTorch refuses a generator of one device type for a tensor of another (a CPU ``torch.Generator``
cannot fill a CUDA tensor).  dlmkit keeps its seeded streams on the CPU so that a run gives the same
numbers on every machine, and every seeded draw goes through these helpers so that the stream
never meets a tensor of another device.  Without a generator the draw happens on the target device.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import torch
from torch import Tensor


def _draw_device(generator: torch.Generator | None, device: torch.device | str) -> torch.device:
    return generator.device if generator is not None else torch.device(device)


def randn(
    shape: Sequence[int],
    generator: torch.Generator | None,
    device: torch.device | str,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Standard normal noise of ``shape`` on ``device`` from ``generator``'s stream."""
    draw = torch.randn(tuple(shape), generator=generator, device=_draw_device(generator, device), dtype=dtype)
    return draw.to(device)


def randn_like(like: Tensor, generator: torch.Generator | None) -> Tensor:
    """Standard normal noise shaped, typed and placed like ``like``."""
    return randn(like.shape, generator, like.device, like.dtype)


def randint(
    low: int, high: int, shape: Sequence[int], generator: torch.Generator | None, device: torch.device | str
) -> Tensor:
    """Integers uniform in ``[low, high)`` (int64) on ``device`` from ``generator``'s stream."""
    draw = torch.randint(low, high, tuple(shape), generator=generator, device=_draw_device(generator, device))
    return draw.to(device)


def stage_seed(seed: int, name: str) -> int:
    """The seed of a stage's own stream: the recipe's seed and the stage's name, so stages draw apart."""
    return (seed * 1_000_003 + zlib.crc32(name.encode())) % (2**31)


def multinomial(probs: Tensor, count: int, generator: torch.Generator | None, device: torch.device | str) -> Tensor:
    """``count`` indices drawn with replacement from ``probs``, on ``device``."""
    source = probs.to(_draw_device(generator, probs.device))
    return torch.multinomial(source, count, replacement=True, generator=generator).to(device)

"""Hypothesis strategies for diffusion components: timesteps, small embedding batches, masks.

Tensors are drawn from a seed rather than element by element: hypothesis then shrinks shapes
and seeds, and the draws stay fast enough for contract checks that run hundreds of examples.
"""

from __future__ import annotations

import attrs
import torch
from hypothesis import strategies as st
from torch import Tensor


def timesteps(num_timesteps: int, batch: int) -> st.SearchStrategy[Tensor]:
    """``batch`` integer timesteps in ``[0, num_timesteps)``, biased to include both ends."""
    step = st.one_of(st.sampled_from([0, num_timesteps - 1]), st.integers(0, num_timesteps - 1))
    return st.lists(step, min_size=batch, max_size=batch).map(lambda ts: torch.tensor(ts, dtype=torch.long))


def timestep_ranges(num_timesteps: int) -> st.SearchStrategy[tuple[int, int]]:
    """``(t_min, t_max)`` with ``0 <= t_min <= t_max < num_timesteps``."""
    return st.tuples(st.integers(0, num_timesteps - 1), st.integers(0, num_timesteps - 1)).map(
        lambda pair: (min(pair), max(pair))
    )


def seeded_normal(shape: tuple[int, ...], seed: int, dtype: torch.dtype = torch.float64, scale: float = 1.0) -> Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator, dtype=dtype) * scale


@st.composite
def embedding_batches(
    draw: st.DrawFn,
    max_batch: int = 3,
    max_len: int = 8,
    max_dim: int = 6,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """A ``[B, L, D]`` batch of Gaussian embeddings with a drawn scale (0.01 to 10)."""
    shape = (draw(st.integers(1, max_batch)), draw(st.integers(2, max_len)), draw(st.integers(1, max_dim)))
    scale = draw(st.sampled_from([0.01, 0.1, 1.0, 3.0, 10.0]))
    return seeded_normal(shape, draw(st.integers(0, 2**31 - 1)), dtype, scale)


def condition_masks(batch: int, length: int) -> st.SearchStrategy[Tensor]:
    """DiffuSeq ``input_mask`` rows ``[0]*c + [1]*(L-c)``: a condition prefix of 1..L-1 positions."""
    split = st.integers(1, length - 1)
    return st.lists(split, min_size=batch, max_size=batch).map(
        lambda cuts: torch.stack([(torch.arange(length) >= c).long() for c in cuts])
    )


def arbitrary_masks(batch: int, length: int) -> st.SearchStrategy[Tensor]:
    """Any 0/1 ``[B, L]`` mask, for code that must not assume the condition is a prefix."""
    return st.lists(st.integers(0, 1), min_size=batch * length, max_size=batch * length).map(
        lambda bits: torch.tensor(bits, dtype=torch.long).reshape(batch, length)
    )


@attrs.frozen
class DiffusionInputs:
    """One consistent draw: clean embeddings, noise, timesteps and a target mask."""

    x0: Tensor
    noise: Tensor
    t: Tensor
    mask: Tensor


@st.composite
def diffusion_inputs(draw: st.DrawFn, num_timesteps: int, dtype: torch.dtype = torch.float64) -> DiffusionInputs:
    x0 = draw(embedding_batches(dtype=dtype))
    batch, length, _ = x0.shape
    noise = seeded_normal(tuple(x0.shape), draw(st.integers(0, 2**31 - 1)), dtype)
    t = draw(timesteps(num_timesteps, batch))
    mask = draw(st.one_of(condition_masks(batch, length), arbitrary_masks(batch, length)))
    return DiffusionInputs(x0=x0, noise=noise, t=t, mask=mask)

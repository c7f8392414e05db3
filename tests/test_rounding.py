"""Nearest-embedding rounding: the nearest row in float64, whatever the chunking, and never a stale table."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmkit.nn.rounding import nearest_embedding


@settings(max_examples=30, deadline=None)
@given(
    vocab=st.integers(2, 300),
    width=st.integers(1, 16),
    positions=st.integers(1, 40),
    max_elements=st.integers(1, 5000),
    seed=st.integers(0, 2**16),
)
def test_each_position_gets_its_nearest_row_for_any_chunking(
    vocab: int, width: int, positions: int, max_elements: int, seed: int
) -> None:
    draws = torch.Generator().manual_seed(seed)
    table = torch.randn(vocab, width, generator=draws)
    x = torch.randn(positions, width, generator=draws)
    ids = nearest_embedding(x, table, max_elements=max_elements)
    dist = torch.cdist(x.double(), table.double())
    best = dist.min(dim=1).values
    chosen = dist.gather(1, ids.view(-1, 1)).squeeze(1)
    assert torch.allclose(chosen, best, atol=1e-4)  # equal up to float32 ties
    assert torch.equal(ids, nearest_embedding(x, table))  # chunking never changes the answer


def test_a_table_changed_in_place_is_not_answered_from_its_cached_norms() -> None:
    table = torch.eye(4) * torch.tensor([1.0, 2.0, 3.0, 4.0]).view(-1, 1)
    x = table.clone()
    assert nearest_embedding(x, table).tolist() == [0, 1, 2, 3]
    table.mul_(10.0)  # same storage, new values: the cached squared norms must be recomputed
    assert nearest_embedding(x * 10.0, table).tolist() == [0, 1, 2, 3]

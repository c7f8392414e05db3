"""Nearest-embedding rounding by DiffuSeq's ``get_efficient_knn`` rule, in bounded memory.

The official code builds one ``[V, B*L]`` distance matrix (about 0.8 GB at batch 50); here the
positions are processed in chunks so at most ``max_elements`` distances exist at once.  Each
position's answer depends only on its own row, so chunking does not change the result.  Rounding
dominated CPU sampling time, so the layout is the fast one: ``[positions, V]`` rows reduced along
the contiguous dimension, one fused ``addmm``, and the table's squared norms cached until the table
changes (about 2.5x faster than the ``[V, positions]`` layout for 1,536 positions of a 30,522-word table).
"""

from __future__ import annotations

import weakref

import torch
from torch import Tensor

DEFAULT_MAX_ELEMENTS = 1 << 24


class _NormCache:
    """The last table's squared row norms, valid while it is the same live tensor at the same version.

    Identity goes through a weak reference: a storage address can be reused by a new table after the
    old one is freed, and must not return the old norms.
    """

    def __init__(self) -> None:
        self.table: weakref.ref[Tensor] | None = None
        self.version = -1
        self.norms: Tensor | None = None

    def __call__(self, table: Tensor) -> Tensor:
        if self.norms is None or self.table is None or self.table() is not table or self.version != table._version:
            self.table, self.version, self.norms = weakref.ref(table), table._version, (table**2).sum(-1)
        return self.norms


_table_sq = _NormCache()


@torch.no_grad()
def nearest_embedding(x: Tensor, table: Tensor, max_elements: int = DEFAULT_MAX_ELEMENTS) -> Tensor:
    """Ids ``[...]`` of the rows of ``table [V, D]`` nearest (L2) to each vector of ``x [..., D]``.

    Distances are ``||e||^2 + ||x||^2 - 2 e.x`` clamped at 0, as the official rule computes them;
    ties go to the lowest id.
    """
    if x.size(-1) != table.size(1):
        raise ValueError(f"x has width {x.size(-1)} but the embedding table has width {table.size(1)}")
    if max_elements <= 0:
        raise ValueError(f"max_elements must be positive, got {max_elements}")
    flat = x.reshape(-1, x.size(-1)).to(device=table.device, dtype=table.dtype)
    table_sq = _table_sq(table).unsqueeze(0)
    chunk = max(1, max_elements // max(1, table.size(0)))
    ids = torch.empty(flat.size(0), dtype=torch.long, device=table.device)
    for start in range(0, flat.size(0), chunk):
        rows = flat[start : start + chunk]
        dist = torch.addmm(table_sq, rows, table.t(), alpha=-2.0).add_((rows**2).sum(-1, keepdim=True))
        ids[start : start + chunk] = dist.clamp_(min=0.0).argmin(dim=1)
    return ids.view(x.shape[:-1]).to(x.device)

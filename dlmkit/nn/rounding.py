"""Nearest-embedding rounding by DiffuSeq's ``get_efficient_knn`` rule, in bounded memory.

The official code builds one ``[V, B*L]`` distance matrix (about 0.8 GB at batch 50); here the
positions are processed in column chunks so at most ``max_elements`` distances exist at once.  Each
position's answer depends only on its own column, so chunking does not change the result.
"""

from __future__ import annotations

import torch
from torch import Tensor

DEFAULT_MAX_ELEMENTS = 1 << 24


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
    table_sq = (table**2).sum(-1).view(-1, 1)
    chunk = max(1, max_elements // max(1, table.size(0)))
    ids = torch.empty(flat.size(0), dtype=torch.long, device=table.device)
    for start in range(0, flat.size(0), chunk):
        cols = flat[start : start + chunk]
        dist = table_sq + (cols**2).sum(-1).view(1, -1) - 2.0 * torch.mm(table, cols.t())
        ids[start : start + chunk] = dist.clamp_(min=0.0).argmin(dim=0)
    return ids.view(x.shape[:-1]).to(x.device)

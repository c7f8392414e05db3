"""An optional unlikelihood term against repeated adjacent tokens in the student's one-step output.

A one-step student that cannot tell from its noise at which of two positions a word falls writes it at
both ("comments comments"): on QQP most of the distilled student's repeated words are its own, not its
regression target's.  This term is the probability, under the teacher's logits of the output, that two
adjacent target positions decode to the same token, summed over the vocabulary's words (padding and
special tokens excluded, so a run of ``[PAD]`` costs nothing): the expected share of repeated pairs,
differentiable in the output.  Off by default: DLM-One has none.
"""

from __future__ import annotations

import torch
from torch import Tensor


def adjacent_repeat_probability(logits: Tensor, tokens: Tensor, excluded: list[int]) -> Tensor:
    """Mean over adjacent pairs of target tokens of ``sum_w p_i(w) p_{i+1}(w)`` (fp32, 0-d).

    ``logits`` ``[B, L, V]``; ``tokens`` ``[B, L]``, 1 at target positions; ``excluded`` ids never count as
    a repeat.  0 when no two target positions are adjacent.
    """
    p = logits.float().softmax(dim=-1)
    keep = torch.ones(p.shape[-1], dtype=p.dtype, device=p.device)
    keep[torch.as_tensor(excluded, dtype=torch.long, device=p.device)] = 0.0
    same = (p[:, :-1] * p[:, 1:] * keep).sum(dim=-1)
    pairs = (tokens[:, :-1] * tokens[:, 1:]).to(same.dtype)
    return (same * pairs).sum() / pairs.sum().clamp_min(1.0)

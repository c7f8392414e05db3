"""Minimum-Bayes-risk selection among seeds' outputs, with DiffuSeq's rule.

For one source's candidates ``s_1..s_k`` (cleaned), ``S_ij = BLEU(s_i as hypothesis, s_j as
reference)`` with ``S_ii = 0``; the pick is the candidate with the largest row sum, the first one
on ties.  Row sums use an exactly rounded sum so identical candidates tie exactly, whatever their
position, and the first of them wins as in the official script.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from dlmkit.errors import UserError
from dlmkit.metrics.bleu import diffuseq_bleu
from dlmkit.metrics.cleaning import clean_recover


def bleu_matrix(candidates: Sequence[str]) -> list[list[float]]:
    """``S[i][j]`` = BLEU of candidate i against candidate j, zero on the diagonal."""
    return [
        [0.0 if i == j else diffuseq_bleu(hyp, ref) for j, ref in enumerate(candidates)]
        for i, hyp in enumerate(candidates)
    ]


def mbr_select(candidates: Sequence[str]) -> int:
    """Index of the MBR pick among cleaned candidates (first wins ties)."""
    if not candidates:
        raise UserError("MBR needs at least one candidate per example")
    sums = [math.fsum(row) for row in bleu_matrix(candidates)]
    return sums.index(max(sums))


def mbr_pick_indices(candidates: Sequence[Sequence[str]]) -> list[int]:
    """For ``candidates[seed][example]`` (raw ``recover`` strings), the seed picked for each example."""
    if not candidates:
        raise UserError("MBR needs the outputs of at least one seed")
    if len({len(seed) for seed in candidates}) > 1:
        raise UserError("MBR: every seed must have the same number of outputs (line k = the same example)")
    return [mbr_select([clean_recover(text) for text in example]) for example in zip(*candidates, strict=True)]

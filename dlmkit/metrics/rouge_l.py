"""ROUGE-L F-measure as DiffuSeq reports it (torchmetrics ``ROUGEScore``, key ``rougeL``), in-house.

torchmetrics' default normaliser lowercases, turns every run of characters outside ``[a-z0-9]``
into a space and splits on whitespace, without stemming; precision and recall are LCS / length.
It returns each pair's score as a float32 tensor and DiffuSeq averages those values, so each
pair's F is rounded to float32 here too: the mean then matches the script bit for bit.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence

import attrs

from dlmkit.metrics.inputs import PairMeanMetric

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    """The default torchmetrics normalisation and tokenisation."""
    return [tok for tok in _NOT_ALNUM.sub(" ", text.lower()).split() if tok]


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (dynamic programme, one row kept)."""
    if len(a) < len(b):
        a, b = b, a
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0
        for j, y in enumerate(b, start=1):
            above = row[j]
            row[j] = diagonal + 1 if x == y else max(above, row[j - 1])
            diagonal = above
    return row[-1]


def _as_float32(value: float) -> float:
    return float(struct.unpack("f", struct.pack("f", value))[0])


def rouge_l_fmeasure(hypothesis: str, reference: str) -> float:
    """ROUGE-L F of one pair; 0 when either side has no tokens or nothing in common."""
    hyp, ref = rouge_tokens(hypothesis), rouge_tokens(reference)
    if not hyp or not ref:
        return 0.0
    lcs = lcs_length(hyp, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(hyp), lcs / len(ref)
    return _as_float32(2 * precision * recall / (precision + recall))


@attrs.frozen
class RougeLParams:
    """No options: torchmetrics' defaults, as DiffuSeq uses them."""


@attrs.frozen
class RougeLMetric(PairMeanMetric):
    """Mean per-pair ROUGE-L F-measure (a fraction in [0, 1])."""

    name = "rouge_l"
    params: RougeLParams = attrs.field(factory=RougeLParams)

    def score(self, hyp: str, ref: str) -> float:
        return rouge_l_fmeasure(hyp, ref)

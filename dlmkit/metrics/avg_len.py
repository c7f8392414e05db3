"""avg_len: DiffuSeq's output length, ``len(recover.split(' '))`` after cleaning.

Splitting on a single space counts the empty strings that removed special tokens leave behind
(two per output from ``[CLS]``/``[SEP]``, one per inner ``[PAD]``).  That is how the paper's
length column was computed, so it is kept; it is a count of pieces, not a fraction.
"""

from __future__ import annotations

import attrs

from dlmkit.metrics.inputs import PairMeanMetric


def diffuseq_length(text: str) -> int:
    """The script's length of one cleaned output."""
    return len(text.split(" "))


@attrs.frozen
class AvgLenParams:
    """No options: DiffuSeq's single-space split."""


@attrs.frozen
class AvgLenMetric(PairMeanMetric):
    """Mean output length in space-separated pieces (not a fraction; descriptive, not a quality score)."""

    name = "avg_len"
    params: AvgLenParams = attrs.field(factory=AvgLenParams)

    def score(self, hyp: str, ref: str) -> float:
        return float(diffuseq_length(hyp))

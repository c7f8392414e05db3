"""avg_len: DiffuSeq's output length, ``len(recover.split(' '))`` after cleaning.

Splitting on a single space counts the empty strings that removed special tokens leave behind
(two per output from ``[CLS]``/``[SEP]``, one per inner ``[PAD]``).  That is how the paper's
length column was computed, so it is kept; it is a count of pieces, not a fraction.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from dlmkit.metrics.cleaning import clean_recover
from dlmkit.metrics.inputs import check_pairs, mean


def diffuseq_length(text: str) -> int:
    """The script's length of one cleaned output."""
    return len(text.split(" "))


@attrs.frozen
class AvgLenParams:
    """No options: DiffuSeq's single-space split."""


@attrs.frozen
class AvgLenMetric:
    """Mean output length in space-separated pieces (not a fraction).

    Length is descriptive, not a quality score; ``higher_is_better`` is only there for the protocol.
    """

    params: AvgLenParams = attrs.field(factory=AvgLenParams)
    higher_is_better = True
    needs_candidates = False

    def compute(
        self,
        hyps: Sequence[str],
        refs: Sequence[str],
        sources: Sequence[str],
        candidates: Sequence[Sequence[str]] | None = None,
    ) -> float:
        check_pairs("avg_len", hyps, refs)
        return mean(float(diffuseq_length(clean_recover(h))) for h in hyps)

"""div-4: distinct 4-grams across the seeds' outputs for one source (higher means more diverse).

All candidates' 4-grams are pooled (``recover.split()`` tokens, no 4-gram crosses two outputs);
the share of distinct ones is averaged over examples, and a set with no 4-gram scores 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from dlmkit.metrics.inputs import CandidateSetMetric

NGRAM_ORDER = 4


def distinct_ngrams_across(sentences: Sequence[str], n: int = NGRAM_ORDER) -> float:
    """``|set(n-grams)| / |n-grams|`` pooled over cleaned sentences; 0 when there are none."""
    grams: list[tuple[str, ...]] = []
    for sentence in sentences:
        tokens = sentence.split()
        grams.extend(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return len(set(grams)) / len(grams) if grams else 0.0


@attrs.frozen
class Div4Params:
    """No options: 4-grams, as DiffuSeq reports."""


@attrs.frozen
class Div4Metric(CandidateSetMetric):
    """Mean inter-seed distinct-4 over examples (a fraction in [0, 1]); uses ``candidates``."""

    name = "div4"
    params: Div4Params = attrs.field(factory=Div4Params)

    def score_set(self, candidates: Sequence[str]) -> float:
        return distinct_ngrams_across(candidates)

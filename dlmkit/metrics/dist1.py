"""dist-1: the share of distinct unigrams within each output, averaged over outputs.

Tokens are ``recover.split()`` after cleaning; an output with no tokens scores 0, as in the script.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from dlmkit.metrics.cleaning import clean_recover
from dlmkit.metrics.inputs import check_pairs, mean


def distinct_unigram_ratio(text: str) -> float:
    """``|set(tokens)| / |tokens|`` for one cleaned output, 0 for an empty one."""
    tokens = text.split()
    return len(set(tokens)) / len(tokens) if tokens else 0.0


@attrs.frozen
class Dist1Params:
    """No options: unigrams over whitespace tokens, as DiffuSeq counts them."""


@attrs.frozen
class Dist1Metric:
    """Mean per-output dist-1 (a fraction in [0, 1]); measures repetition inside one output."""

    params: Dist1Params = attrs.field(factory=Dist1Params)
    higher_is_better = True
    needs_candidates = False

    def compute(
        self,
        hyps: Sequence[str],
        refs: Sequence[str],
        sources: Sequence[str],
        candidates: Sequence[Sequence[str]] | None = None,
    ) -> float:
        check_pairs("dist1", hyps, refs)
        return mean(distinct_unigram_ratio(clean_recover(h)) for h in hyps)

"""dist-1: the share of distinct unigrams within each output, averaged over outputs.

Tokens are ``recover.split()`` after cleaning; an output with no tokens scores 0, as in the script.
"""

from __future__ import annotations

import attrs

from dlmkit.metrics.inputs import PairMeanMetric


def distinct_unigram_ratio(text: str) -> float:
    """``|set(tokens)| / |tokens|`` for one cleaned output, 0 for an empty one."""
    tokens = text.split()
    return len(set(tokens)) / len(tokens) if tokens else 0.0


@attrs.frozen
class Dist1Params:
    """No options: unigrams over whitespace tokens, as DiffuSeq counts them."""


@attrs.frozen
class Dist1Metric(PairMeanMetric):
    """Mean per-output dist-1 (a fraction in [0, 1]); measures repetition inside one output."""

    name = "dist1"
    params: Dist1Params = attrs.field(factory=Dist1Params)

    def score(self, hyp: str, ref: str) -> float:
        return distinct_unigram_ratio(hyp)

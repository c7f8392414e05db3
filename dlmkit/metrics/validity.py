"""validity: the share of outputs that are exactly one of the K answers of their source (``modes`` data).

A one-step student that regresses to the mean of the modes writes sequences that are none of them,
so validity separates distribution matching from averaging where BLEU cannot.
"""

from __future__ import annotations

from collections.abc import Sequence

from dlmkit.data.modes import matched_modes
from dlmkit.metrics.inputs import mean
from dlmkit.metrics.mode_metric import ModeMetric, words


class ValidityMetric(ModeMetric):
    """Mean over outputs of 1 when the output is one of its source's answers, else 0."""

    name = "validity"
    higher_is_better = True

    def score(self, hyps: Sequence[str], sources: Sequence[str], modes: Sequence[str]) -> float:
        return mean(
            float(bool(matched_modes(words(h), words(s, source=True), modes)))
            for h, s in zip(hyps, sources, strict=True)
        )

"""validity: the share of outputs that are exactly one of the K answers of their source (``modes`` data).

A one-step student that regresses to the mean of the modes writes sequences that are none of them,
so validity separates distribution matching from averaging where BLEU cannot.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from dlmkit.data.modes import TRANSFORMS, check_modes, matched_modes
from dlmkit.metrics.cleaning import clean_recover, clean_source
from dlmkit.metrics.inputs import check_pairs, mean


@attrs.frozen
class ModeMetricParams:
    """The modes an output may follow; the same list as the dataset's ``modes``."""

    modes: list[str] = attrs.field(factory=lambda: list(TRANSFORMS), validator=check_modes)


def words(text: str, *, source: bool = False) -> list[str]:
    """A decoded output (or source) as its words, cleaned as DiffuSeq's evaluation script does."""
    return (clean_source(text) if source else clean_recover(text)).split()


@attrs.frozen
class ValidityMetric:
    """Mean over outputs of 1 when the output is one of its source's answers, else 0."""

    name = "validity"
    higher_is_better = True
    needs_candidates = False
    params: ModeMetricParams = attrs.field(factory=ModeMetricParams)

    def compute(
        self,
        hyps: Sequence[str],
        refs: Sequence[str],
        sources: Sequence[str],
        candidates: Sequence[Sequence[str]] | None = None,
    ) -> float:
        check_pairs(self.name, hyps, sources)
        modes = self.params.modes
        return mean(
            float(bool(matched_modes(words(h), words(s, source=True), modes)))
            for h, s in zip(hyps, sources, strict=True)
        )

"""What the ``modes`` metrics share: their parameters, how outputs are read, and the metric contract.

``validity`` and ``mode_tv`` score outputs against their sources' K exact answers (``dlmkit.data.modes``);
references are not used.  A subclass sets ``name``/``higher_is_better`` and implements ``score``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import attrs

from dlmkit.data.modes import TRANSFORMS, check_modes
from dlmkit.metrics.cleaning import clean_recover, clean_source
from dlmkit.metrics.inputs import check_pairs


@attrs.frozen
class ModeMetricParams:
    """The modes an output may follow; the same list as the dataset's ``modes``."""

    modes: list[str] = attrs.field(factory=lambda: list(TRANSFORMS), validator=check_modes)


def words(text: str, *, source: bool = False) -> list[str]:
    """A decoded output (or source) as its words, cleaned as DiffuSeq's evaluation script does."""
    return (clean_source(text) if source else clean_recover(text)).split()


class ModeMetric:
    """Base of the ``modes`` metrics: checks the inputs, then scores outputs against their sources."""

    name: ClassVar[str]
    higher_is_better: bool = True
    needs_candidates: bool = False
    pooled: bool = True
    """A share of the outputs: with several seeds, one share over all of them (``Metric``)."""

    def __init__(self, params: ModeMetricParams | None = None) -> None:
        self.params = params or ModeMetricParams()

    def score(self, hyps: Sequence[str], sources: Sequence[str], modes: Sequence[str]) -> float:
        raise NotImplementedError

    def compute(
        self,
        hyps: Sequence[str],
        refs: Sequence[str],
        sources: Sequence[str],
        candidates: Sequence[Sequence[str]] | None = None,
    ) -> float:
        check_pairs(self.name, hyps, sources)
        return self.score(hyps, sources, self.params.modes)

"""The metric contract: a number from generated texts against references."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class Metric(Protocol):
    """Scores one set of outputs; ``candidates`` holds every seed's outputs for diversity metrics.

    ``hyps``, ``refs`` and ``sources`` are DiffuSeq output strings (``recover``, ``reference``,
    ``source``) before cleaning; each metric cleans as DiffuSeq's evaluation script does.
    ``candidates[k][i]`` is seed ``k``'s output for example ``i``.
    """

    higher_is_better: bool
    needs_candidates: bool

    def compute(
        self,
        hyps: Sequence[str],
        refs: Sequence[str],
        sources: Sequence[str],
        candidates: Sequence[Sequence[str]] | None = None,
    ) -> float: ...

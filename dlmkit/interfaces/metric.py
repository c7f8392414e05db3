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

    Optional: a class attribute ``pooled = True`` marks a metric of the outputs' distribution (a share,
    not a per-example score averaged); with several seeds it is scored once on every seed's outputs
    together, because one seed's share estimate has a sampling floor of its own (``is_pooled``).
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


def is_pooled(metric: Metric) -> bool:
    """Whether ``metric`` is scored on every seed's outputs together (optional attribute, default False)."""
    return bool(getattr(metric, "pooled", False))

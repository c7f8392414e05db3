"""Checks shared by the metrics: inputs that pair up, candidate sets of one shape, plain means."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import ClassVar

from dlmkit.errors import UserError
from dlmkit.metrics.cleaning import clean_recover, clean_reference


def check_pairs(metric: str, hyps: Sequence[str], refs: Sequence[str]) -> None:
    """Outputs and references must pair up line by line, and there must be something to score."""
    if len(hyps) != len(refs):
        raise UserError(
            f"metric {metric!r}: got {len(hyps)} outputs but {len(refs)} references; "
            "they must pair up line by line (one reference per output)"
        )
    if not hyps:
        raise UserError(f"metric {metric!r}: nothing to score (0 outputs); give at least one output line")


def per_example(metric: str, candidates: Sequence[Sequence[str]] | None) -> list[list[str]]:
    """Turn ``candidates[seed][example]`` into one candidate set per example."""
    if candidates is None or len(candidates) == 0:
        raise UserError(
            f"metric {metric!r} compares the outputs of several seeds: pass `candidates` "
            "(one list of outputs per seed, e.g. several output files)"
        )
    sizes = {len(seed) for seed in candidates}
    if len(sizes) != 1:
        counts = ", ".join(str(len(seed)) for seed in candidates)
        raise UserError(
            f"metric {metric!r}: every seed must have the same number of outputs, got {counts}; "
            "line k of every output file must be the same example"
        )
    if sizes == {0}:
        raise UserError(f"metric {metric!r}: nothing to score (0 outputs per seed)")
    return [list(example) for example in zip(*candidates, strict=True)]


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean with an exactly rounded sum, so it does not depend on the order of the values."""
    items = list(values)
    return math.fsum(items) / len(items)


class PairMeanMetric:
    """Base of the metrics that average a per-output score, as DiffuSeq's script does.

    Subclasses set ``name`` and implement ``score(hyp, ref)`` on cleaned strings.
    """

    name: ClassVar[str]
    higher_is_better: bool = True
    needs_candidates: bool = False

    def score(self, hyp: str, ref: str) -> float:
        raise NotImplementedError

    def compute(
        self,
        hyps: Sequence[str],
        refs: Sequence[str],
        sources: Sequence[str],
        candidates: Sequence[Sequence[str]] | None = None,
    ) -> float:
        check_pairs(self.name, hyps, refs)
        return mean(self.score(clean_recover(h), clean_reference(r)) for h, r in zip(hyps, refs, strict=True))


class CandidateSetMetric:
    """Base of the diversity metrics: a score per example over its cleaned candidates, averaged.

    Subclasses set ``name`` and implement ``score_set(candidates)``; ``hyps`` are not used.
    """

    name: ClassVar[str]
    higher_is_better: bool = True
    needs_candidates: bool = True

    def score_set(self, candidates: Sequence[str]) -> float:
        raise NotImplementedError

    def compute(
        self,
        hyps: Sequence[str],
        refs: Sequence[str],
        sources: Sequence[str],
        candidates: Sequence[Sequence[str]] | None = None,
    ) -> float:
        sets = per_example(self.name, candidates)
        return mean(self.score_set([clean_recover(s) for s in example]) for example in sets)

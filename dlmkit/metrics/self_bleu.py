"""selfBLEU: how alike the seeds' outputs for one source are (lower means more diverse).

For each example the script averages ``BLEU(s_i, s_j)`` over pairs ``i < j`` of its candidate set,
``s_i`` as the hypothesis, and scores 0 when there is no pair; the metric is the mean over examples.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from dlmkit.metrics.bleu import diffuseq_bleu
from dlmkit.metrics.inputs import CandidateSetMetric, mean


def self_bleu_of_set(sentences: Sequence[str]) -> float:
    """Mean BLEU over ordered pairs ``i < j`` of cleaned candidates (0 for fewer than two)."""
    scores = [diffuseq_bleu(a, b) for i, a in enumerate(sentences) for b in sentences[i + 1 :]]
    return mean(scores) if scores else 0.0


@attrs.frozen
class SelfBleuParams:
    """No options: DiffuSeq's pairwise BLEU-4."""


@attrs.frozen
class SelfBleuMetric(CandidateSetMetric):
    """Mean selfBLEU over examples (a fraction in [0, 1]); uses ``candidates``, not ``hyps``."""

    name = "self_bleu"
    higher_is_better = False
    params: SelfBleuParams = attrs.field(factory=SelfBleuParams)

    def score_set(self, candidates: Sequence[str]) -> float:
        return self_bleu_of_set(candidates)

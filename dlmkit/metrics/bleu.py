"""Sentence BLEU exactly as DiffuSeq scores it: NLTK ``sentence_bleu``, BLEU-4, smoothing method 4.

DiffuSeq's numbers were produced with NLTK, whose method-4 smoothing differs from other BLEU
implementations (and has changed between NLTK releases), so NLTK itself is called rather than
re-implemented.  Tokens are the whitespace split of the cleaned, BERT-decoded text.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from dlmkit.metrics.cleaning import clean_recover, clean_reference
from dlmkit.metrics.inputs import check_pairs, mean

_SMOOTHING = SmoothingFunction().method4


def diffuseq_bleu(hypothesis: str, reference: str) -> float:
    """BLEU-4 of one cleaned hypothesis against one cleaned reference (the script's ``get_bleu``)."""
    return float(sentence_bleu([reference.split()], hypothesis.split(), smoothing_function=_SMOOTHING))


@attrs.frozen
class BleuParams:
    """No options: the definition is fixed by DiffuSeq's evaluation script."""


@attrs.frozen
class BleuMetric:
    """Mean per-sentence BLEU-4 (a fraction in [0, 1])."""

    params: BleuParams = attrs.field(factory=BleuParams)
    higher_is_better = True
    needs_candidates = False

    def compute(
        self,
        hyps: Sequence[str],
        refs: Sequence[str],
        sources: Sequence[str],
        candidates: Sequence[Sequence[str]] | None = None,
    ) -> float:
        check_pairs("bleu", hyps, refs)
        return mean(diffuseq_bleu(clean_recover(h), clean_reference(r)) for h, r in zip(hyps, refs, strict=True))

"""Sentence BLEU exactly as DiffuSeq scores it: NLTK ``sentence_bleu``, BLEU-4, smoothing method 4.

DiffuSeq's numbers were produced with NLTK, whose method-4 smoothing differs from other BLEU
implementations (and has changed between NLTK releases), so NLTK itself is called rather than
re-implemented.  Tokens are the whitespace split of the cleaned, BERT-decoded text.
"""

from __future__ import annotations

import attrs
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from dlmkit.metrics.inputs import PairMeanMetric

_SMOOTHING = SmoothingFunction().method4


def diffuseq_bleu(hypothesis: str, reference: str) -> float:
    """BLEU-4 of one cleaned hypothesis against one cleaned reference (the script's ``get_bleu``)."""
    return float(sentence_bleu([reference.split()], hypothesis.split(), smoothing_function=_SMOOTHING))


@attrs.frozen
class BleuParams:
    """No options: the definition is fixed by DiffuSeq's evaluation script."""


@attrs.frozen
class BleuMetric(PairMeanMetric):
    """Mean per-sentence BLEU-4 (a fraction in [0, 1])."""

    name = "bleu"
    params: BleuParams = attrs.field(factory=BleuParams)

    def score(self, hyp: str, ref: str) -> float:
        return diffuseq_bleu(hyp, ref)

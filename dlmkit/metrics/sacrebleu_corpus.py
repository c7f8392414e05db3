"""Standard corpus BLEU from sacreBLEU, for numbers comparable with the wider MT/NLG literature.

DiffuSeq's own BLEU is the NLTK sentence average (``bleu``); this one pools n-gram counts over
the corpus and tokenises with sacreBLEU's tokenisers.  It follows sacreBLEU's convention and is
reported on a 0-100 scale, together with its signature string, which pins every setting.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from sacrebleu.metrics import BLEU

from dlmkit.metrics.cleaning import clean_recover, clean_reference
from dlmkit.metrics.inputs import check_pairs


def _known_tokenizer(_instance: object, _attribute: attrs.Attribute[str], value: str) -> None:
    known = sorted(BLEU.TOKENIZERS)
    if value not in known:
        raise ValueError(f"sacrebleu tokenize must be one of {', '.join(known)}; got {value!r}")


@attrs.frozen
class SacreBleuParams:
    """sacreBLEU options; the defaults are sacreBLEU's own (13a tokeniser, case-sensitive)."""

    tokenize: str = attrs.field(default="13a", validator=_known_tokenizer)
    lowercase: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))


@attrs.frozen
class SacreBleuMetric:
    """Corpus BLEU on cleaned outputs, 0-100 (sacreBLEU's convention, not a fraction)."""

    params: SacreBleuParams = attrs.field(factory=SacreBleuParams)
    higher_is_better = True
    needs_candidates = False

    def _bleu(self) -> BLEU:
        return BLEU(tokenize=self.params.tokenize, lowercase=self.params.lowercase)

    @property
    def signature(self) -> str:
        """sacreBLEU's signature for these settings and one reference per output."""
        bleu = self._bleu()
        bleu.corpus_score(["x"], [["x"]])  # sacreBLEU only knows nrefs after scoring once
        return str(bleu.get_signature())

    def compute(
        self,
        hyps: Sequence[str],
        refs: Sequence[str],
        sources: Sequence[str],
        candidates: Sequence[Sequence[str]] | None = None,
    ) -> float:
        check_pairs("sacrebleu", hyps, refs)
        hyp_texts = [clean_recover(h) for h in hyps]
        ref_texts = [clean_reference(r) for r in refs]
        return float(self._bleu().corpus_score(hyp_texts, [ref_texts]).score)

"""sacreBLEU corpus BLEU: the offline-eval spec's value, cleaning, options and signature."""

from __future__ import annotations

import pytest
import sacrebleu

from dlmkit.metrics.sacrebleu_corpus import SacreBleuMetric, SacreBleuParams

HYPS = ["how can i be a good geologist ?", "what is the best way to learn java ?"]
REFS = ["what should i do to be a great geologist ?", "how do i learn a computer language like java ?"]


def test_offline_eval_spec_corpus_value() -> None:
    # offline-eval.md: sacrebleu.corpus_bleu(hyps, [refs]).score = 7.9831 on these pairs (0-100 scale).
    assert SacreBleuMetric().compute(HYPS, REFS, ["", ""]) == pytest.approx(7.9831, abs=5e-5)


def test_special_tokens_are_cleaned_first() -> None:
    raw_hyps = [f"[CLS] {h} [SEP] [PAD] [PAD]" for h in HYPS]
    raw_refs = [f"[CLS] {r} [SEP]" for r in REFS]
    expected = sacrebleu.corpus_bleu(HYPS, [REFS]).score
    assert SacreBleuMetric().compute(raw_hyps, raw_refs, ["", ""]) == pytest.approx(expected)


def test_options_reach_sacrebleu() -> None:
    hyps, refs = ["The Cat sat."], ["the cat sat ."]
    cased = SacreBleuMetric().compute(hyps, refs, [""])
    lowered = SacreBleuMetric(SacreBleuParams(lowercase=True)).compute(hyps, refs, [""])
    assert lowered == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs], lowercase=True).score)
    assert lowered > cased
    signature = SacreBleuMetric(SacreBleuParams(tokenize="none", lowercase=True)).signature
    assert "tok:none" in signature and "case:lc" in signature and "nrefs:1" in signature


def test_unknown_tokenizer_is_rejected_with_the_choices() -> None:
    with pytest.raises(ValueError, match="13a"):
        SacreBleuParams(tokenize="nope")

"""DiffuSeq BLEU against NLTK called directly, plus the offline-eval spec's pair values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from dlmkit.errors import UserError
from dlmkit.metrics.bleu import BleuMetric, diffuseq_bleu
from dlmkit.metrics.cleaning import clean_recover, clean_reference

sentences = st.lists(st.sampled_from(["a", "b", "c", "d", "e", "?"]), max_size=9).map(" ".join)


def _nltk(hyp: str, ref: str) -> float:
    return float(sentence_bleu([ref.split()], hyp.split(), smoothing_function=SmoothingFunction().method4))


def test_offline_eval_spec_pairs() -> None:
    # offline-eval.md: nltk sentence_bleu, method4, on these lowercased, BERT-decoded pairs.
    hyps = ["how can i be a good geologist ?", "what is the best way to learn java ?"]
    refs = ["what should i do to be a great geologist ?", "how do i learn a computer language like java ?"]
    assert [round(diffuseq_bleu(h, r), 4) for h, r in zip(hyps, refs, strict=True)] == [0.0829, 0.0626]


def test_hypothesis_is_the_first_argument() -> None:
    # BLEU is not symmetric (brevity penalty); the pre-2023 script had the arguments swapped.
    short, long = "how do i learn", "how do i learn python fast"
    assert diffuseq_bleu(short, long) == pytest.approx(_nltk(short, long))
    assert diffuseq_bleu(short, long) != pytest.approx(diffuseq_bleu(long, short))


@given(st.lists(st.tuples(sentences, sentences), min_size=1, max_size=4))
def test_metric_is_the_mean_of_nltk_sentence_bleu(pairs: list[tuple[str, str]]) -> None:
    hyps = [f"[CLS] {h} [SEP] [PAD]" for h, _ in pairs]
    refs = [f"[CLS] {r} [SEP]" for _, r in pairs]
    expected = sum(_nltk(clean_recover(h), clean_reference(r)) for h, r in zip(hyps, refs, strict=True)) / len(pairs)
    assert BleuMetric().compute(hyps, refs, [""] * len(pairs)) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=4, max_size=10).map(" ".join))
def test_identical_sentences_of_four_tokens_or_more_score_one(text: str) -> None:
    assert diffuseq_bleu(text, text) == pytest.approx(1.0)


def test_empty_output_scores_zero() -> None:
    assert BleuMetric().compute(["[CLS] [SEP]", ""], ["a b c", "a b c"], ["", ""]) == 0.0


def test_mismatched_or_empty_inputs_are_user_errors() -> None:
    with pytest.raises(UserError, match="2 outputs but 1 references"):
        BleuMetric().compute(["a", "b"], ["a"], [])
    with pytest.raises(UserError, match="nothing to score"):
        BleuMetric().compute([], [], [])

"""dist-1, selfBLEU and div-4 against the spec and against NLTK-based references built here."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nltk import ngrams
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from dlmkit.errors import UserError
from dlmkit.metrics.dist1 import Dist1Metric, distinct_unigram_ratio
from dlmkit.metrics.div4 import Div4Metric, distinct_ngrams_across
from dlmkit.metrics.self_bleu import SelfBleuMetric

SPEC_SET = ["how can i make friends?", "how do you make friends?", "what is the best way to make friends?"]
sentences = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=8).map(" ".join)


def _bleu(hyp: str, ref: str) -> float:
    return float(sentence_bleu([ref.split()], hyp.split(), smoothing_function=SmoothingFunction().method4))


def test_spec_self_bleu_and_div4() -> None:
    candidates = [[s] for s in SPEC_SET]  # three seeds, one example
    assert SelfBleuMetric().compute([], [], [], candidates=candidates) == pytest.approx(0.089062, abs=5e-7)
    assert Div4Metric().compute([], [], [], candidates=candidates) == 1.0


@given(st.lists(st.lists(sentences, min_size=2, max_size=2), min_size=1, max_size=4))
def test_self_bleu_is_the_mean_pairwise_bleu_per_example(seeds: list[list[str]]) -> None:
    # seeds[k][i]; examples are the columns.
    columns = list(zip(*seeds, strict=True))
    per_example = []
    for column in columns:
        pairs = [_bleu(column[i], column[j]) for i in range(len(column)) for j in range(i + 1, len(column))]
        per_example.append(sum(pairs) / len(pairs) if pairs else 0.0)
    expected = sum(per_example) / len(per_example)
    assert SelfBleuMetric().compute([], [], [], candidates=seeds) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@given(st.lists(sentences, min_size=1, max_size=5))
def test_div4_matches_nltk_ngrams(column: list[str]) -> None:
    grams = [g for s in column for g in ngrams(s.split(), 4)]
    expected = len(set(grams)) / len(grams) if grams else 0.0
    assert distinct_ngrams_across(column) == expected


def test_div4_does_not_join_across_outputs() -> None:
    # "a b c" + "d" would form a 4-gram only if outputs were concatenated.
    assert distinct_ngrams_across(["a b c", "d"]) == 0.0


def test_one_seed_has_no_pairs_and_scores_zero() -> None:
    assert SelfBleuMetric().compute([], [], [], candidates=[["a b c d e"]]) == 0.0


def test_candidate_metrics_need_candidates_of_one_shape() -> None:
    with pytest.raises(UserError, match="several seeds"):
        SelfBleuMetric().compute(["a"], ["a"], [""])
    with pytest.raises(UserError, match="same number of outputs, got 2, 1"):
        Div4Metric().compute([], [], [], candidates=[["a", "b"], ["a"]])


@given(st.lists(st.sampled_from(["a", "b", "c", "[PAD]"]), max_size=8).map(" ".join))
def test_dist1_is_unique_over_total_whitespace_tokens(text: str) -> None:
    tokens = [t for t in text.split() if t != "[PAD]"]
    expected = len(set(tokens)) / len(tokens) if tokens else 0.0
    assert Dist1Metric().compute([text], ["x"], [""]) == expected


def test_dist1_of_repetition() -> None:
    assert distinct_unigram_ratio("a a a b") == 0.5
    assert distinct_unigram_ratio("   ") == 0.0

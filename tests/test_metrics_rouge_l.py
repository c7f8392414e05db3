"""In-house ROUGE-L against values torchmetrics 1.9.0 gave (ROUGEScore(rouge_keys=("rougeL",)))."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlmkit.metrics.rouge_l import RougeLMetric, lcs_length, rouge_l_fmeasure, rouge_tokens

# (hypothesis, reference, torchmetrics rougeL_fmeasure .tolist()), computed once with torchmetrics 1.9.0.
TORCHMETRICS = [
    ("The cat's hat, on-the MAT!", "the cat sat on the mat", 0.7692307829856873),
    ("café naïve résumé 2024", "cafe naive resume 2024", 0.20000000298023224),
    ("a a a b", "a b a b", 0.75),
    ("???", "what?", 0.0),
    ("how do i [UNK] learn python ?", "[unk] learn python", 0.6666666865348816),
    ("x1 y2_z3", "x1 y2 z3", 1.0),
    ("how can i be a good geologist ?", "what should i do to be a great geologist ?", 0.5),
    ("what is the best way to learn java ?", "how do i learn a computer language like java ?", 0.23529411852359772),
    (
        "one two three four five six seven eight nine ten",
        "ten nine eight seven six five four three two one",
        0.10000000149011612,
    ),
    ("Ünïcode ÀB", "unicode ab", 0.0),
    ("Ångström unit", "angstrom unit", 0.4000000059604645),
]

token_lists = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=7)
texts = st.lists(st.sampled_from(["a", "B", "c!", "d-e", "?", "é", "1", "[SEP]"]), max_size=8).map(" ".join)


@pytest.mark.parametrize(("hyp", "ref", "expected"), TORCHMETRICS)
def test_matches_torchmetrics_bit_for_bit(hyp: str, ref: str, expected: float) -> None:
    assert rouge_l_fmeasure(hyp, ref) == expected


def test_metric_averages_pairs_after_cleaning() -> None:
    hyps = [f"[CLS] {h} [SEP] [PAD]" for h, _, _ in TORCHMETRICS]
    refs = [f"[CLS] {r} [SEP]" for _, r, _ in TORCHMETRICS]
    expected = sum(v for _, _, v in TORCHMETRICS) / len(TORCHMETRICS)
    assert RougeLMetric().compute(hyps, refs, [""] * len(hyps)) == pytest.approx(expected, rel=1e-12)


def test_default_normaliser() -> None:
    assert rouge_tokens("  How's IT going?! ok_2 ") == ["how", "s", "it", "going", "ok", "2"]


def _lcs_brute_force(a: list[str], b: list[str]) -> int:
    for size in range(min(len(a), len(b)), 0, -1):
        subsequences = set(itertools.combinations(b, size))
        if any(sub in subsequences for sub in itertools.combinations(a, size)):
            return size
    return 0


@given(token_lists, token_lists)
def test_lcs_matches_brute_force(a: list[str], b: list[str]) -> None:
    assert lcs_length(a, b) == _lcs_brute_force(a, b) == lcs_length(b, a)


@given(texts, texts)
def test_f_is_symmetric_and_bounded(hyp: str, ref: str) -> None:
    score = rouge_l_fmeasure(hyp, ref)
    assert 0.0 <= score <= 1.0
    assert score == rouge_l_fmeasure(ref, hyp)


@given(texts)
def test_self_match_is_one_unless_nothing_survives_normalisation(text: str) -> None:
    assert rouge_l_fmeasure(text, text) == (1.0 if rouge_tokens(text) else 0.0)

"""MBR with DiffuSeq's rule: pairwise BLEU, zero diagonal, argmax of row sums, first on ties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from dlmkit.errors import UserError
from dlmkit.inference.mbr import bleu_matrix, mbr_pick_indices, mbr_select

SPEC_SET = ["how can i make friends?", "how do you make friends?", "what is the best way to make friends?"]
candidate_sets = st.lists(
    st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=6).map(" ".join), min_size=1, max_size=5
)


def _reference_pick(candidates: list[str]) -> int:
    """The official selectBest, written out with numpy and NLTK."""
    smoothing = SmoothingFunction().method4
    scores = np.array(
        [[sentence_bleu([r.split()], h.split(), smoothing_function=smoothing) for r in candidates] for h in candidates]
    )
    np.fill_diagonal(scores, 0)
    return int(np.argmax(np.sum(scores, -1)))


def test_spec_example_picks_the_first() -> None:
    assert mbr_select(SPEC_SET) == 0 == _reference_pick(SPEC_SET)


def test_matrix_uses_row_as_hypothesis() -> None:
    matrix = bleu_matrix(["how do i learn", "how do i learn python fast"])
    smoothing = SmoothingFunction().method4
    expected = sentence_bleu(
        [["how", "do", "i", "learn", "python", "fast"]], ["how", "do", "i", "learn"], smoothing_function=smoothing
    )
    assert matrix[0][0] == matrix[1][1] == 0.0
    assert matrix[0][1] == pytest.approx(expected)
    assert matrix[0][1] != pytest.approx(matrix[1][0])


def test_ties_go_to_the_first() -> None:
    assert mbr_select(["x y z w", "x y z w", "q"]) == 0
    assert mbr_select(["q", "a b c d", "a b c d"]) == 1


@given(candidate_sets)
def test_pick_has_the_largest_row_sum_and_no_earlier_equal(candidates: list[str]) -> None:
    sums = [math.fsum(row) for row in bleu_matrix(candidates)]
    pick = mbr_select(candidates)
    assert sums[pick] == max(sums)
    assert all(s < sums[pick] for s in sums[:pick])
    # The numpy reference may differ only by picking an equal-scoring candidate.
    reference = _reference_pick(candidates)
    assert sums[reference] == pytest.approx(sums[pick], abs=1e-12)


def test_pick_indices_clean_raw_outputs() -> None:
    seeds = [["[CLS] a b [SEP]", "[CLS] q [SEP]"], ["[CLS] a b c d [SEP] [PAD]", "[CLS] q r [SEP]"]]
    assert mbr_pick_indices(seeds) == [mbr_select(["a b", "a b c d"]), mbr_select(["q", "q r"])]
    with pytest.raises(UserError, match="same number of outputs"):
        mbr_pick_indices([["a"], ["a", "b"]])
    with pytest.raises(UserError):
        mbr_select([])

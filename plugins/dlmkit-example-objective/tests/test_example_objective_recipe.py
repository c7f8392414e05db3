"""The tiny recipe with only its ``[stage.objective]`` tables changed distills with ``sid_min_snr``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tomllib
import torch

from dlmkit.engine.pipeline import run_recipe
from dlmkit.recipe.load import load_recipe

torch.set_num_threads(1)
HERE = Path(__file__).resolve().parents[1]
RECIPE = HERE / "recipes" / "example_objective_cpu.toml"
TINY = HERE.parents[1] / "recipes" / "tiny_cpu.toml"
SHORT = [
    "stage.teacher.steps=4",
    "stage.teacher.eval_every=0",
    "stage.teacher.ckpt_every=0",
    "stage.stage1.steps=3",
    "stage.stage1.eval_every=0",
    "stage.stage1.ckpt_every=0",
    "stage.stage1.log_every=1",
    "stage.stage2.steps=2",
    "stage.stage2.eval_every=0",
    "stage.stage2.ckpt_every=0",
    "stage.stage2.log_every=1",
    "eval.num_samples=8",
    "eval.teacher_steps=5",
    "runtime.threads=1",
]


def _without_objectives(recipe: dict[str, Any]) -> dict[str, Any]:
    stages = [{k: v for k, v in stage.items() if k != "objective"} for stage in recipe["stage"]]
    data = {k: v for k, v in recipe["data"].items() if k != "root"}
    rest = {k: v for k, v in recipe.items() if k not in ("name", "description", "stage", "data")}
    return {**rest, "data": data, "stage": stages}


def test_the_recipe_differs_from_tiny_cpu_only_in_its_objective_tables() -> None:
    ours, tiny = (tomllib.loads(path.read_text()) for path in (RECIPE, TINY))
    assert _without_objectives(ours) == _without_objectives(tiny)
    assert [s.get("objective", {}).get("name") for s in ours["stage"]] == [None, "sid_min_snr", "sid_min_snr"]
    assert (RECIPE.parent / ours["data"]["root"]).resolve() == (TINY.parent / tiny["data"]["root"]).resolve()


def test_the_recipe_runs_with_the_plugin_objective(tmp_path: Path) -> None:
    recipe = load_recipe(RECIPE, SHORT)
    assert [type(s.params.objective.params).__name__ for s in recipe.stages[1:]] == ["SidMinSnrParams"] * 2
    state = run_recipe(recipe, output_dir=tmp_path / "run", progress=False)
    assert all(state["stages"][s]["summary"]["complete"] for s in ("teacher", "stage1", "stage2"))
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    distill = [r for r in logged if r["stage"] in ("stage1", "stage2") and "g_loss" in r]
    assert len(distill) == 5
    assert all("g_time_weight" in r and "psi_dsm_mse" in r and r["g_dropped"] == 0.0 for r in distill)
    assert json.loads((tmp_path / "run" / "results.json").read_text())["student"]["nfe"] == 1

"""A finished tiny run (toy teacher, two one-step distill stages) in a few seconds, for command tests.

The run is started from its parent folder with a relative ``--output-dir``, so ``run_state.json``
records paths relative to a working directory the tests do not use: opening it must find the
files inside the run folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from dlmkit.engine.pipeline import run_recipe
from dlmkit.recipe.load import load_recipe

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "recipes" / "tiny_cpu.toml"

FAST = [
    "stage.teacher.steps=4",
    "stage.teacher.ckpt_every=4",
    "stage.teacher.eval_every=0",
    "stage.stage1.steps=1",
    "stage.stage1.eval_every=0",
    "stage.stage1.ckpt_every=1",
    "stage.stage1.log_every=1",
    "stage.stage2.steps=1",
    "stage.stage2.eval_every=0",
    "stage.stage2.ckpt_every=1",
    "stage.stage2.log_every=1",
    "eval.num_samples=4",
    "eval.teacher_steps=2",
    "runtime.threads=1",
]

#: ``--set`` arguments that keep commands on one thread, as the shared test machine needs.
ONE_THREAD = ["--set", "runtime.threads=1"]


def make_tiny_run(base: Path) -> Path:
    """Run the tiny recipe into ``base/run`` and return that folder."""
    here = Path.cwd()
    os.chdir(base)
    try:
        run_recipe(load_recipe(TINY, FAST), output_dir=Path("run"), progress=False)
    finally:
        os.chdir(here)
    return base / "run"

"""Checkpoints a run cannot continue from are named, never resumed from silently or with a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file, save_file

from dlmkit.cli.main import cli
from dlmkit.engine.pipeline import run_recipe
from dlmkit.recipe.load import load_recipe
from tests.test_pipeline import SHORT, TINY

PARTIAL = [*SHORT, "stage.stage2.steps=400", "stage.stage2.max_minutes=0.002"]


@pytest.fixture
def partial(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run_recipe(load_recipe(TINY, PARTIAL), run, progress=False)
    return run


def resume(run: Path) -> tuple[int, str]:
    args = ["run", str(TINY), "--output-dir", str(run), "--resume", "--no-progress"]
    result = CliRunner().invoke(cli, [*args, *(a for o in PARTIAL for a in ("--set", o))])
    return result.exit_code, result.output


def test_a_checkpoint_with_nan_weights_is_not_resumed_from(partial: Path) -> None:
    ckpt = partial / "stage2" / "ckpt"
    latest = ckpt / (ckpt / "latest").read_text().strip()
    weights = load_file(latest / "student.safetensors")
    first = sorted(weights)[0]
    weights[first] = torch.full_like(weights[first], float("nan"))
    save_file(weights, latest / "student.safetensors")
    code, output = resume(partial)
    assert code == 2 and "holds NaN or infinite weights" in output and "Traceback" not in output


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\x00\xff\xfe binary", "unreadable or binary"), (b"../../../elsewhere/step_0000004", "not a step_N")],
)
def test_a_latest_pointer_that_names_no_step_is_named(partial: Path, content: bytes, message: str) -> None:
    (partial / "stage2" / "ckpt" / "latest").write_bytes(content)
    code, output = resume(partial)
    assert code == 2 and message in output and "Traceback" not in output

"""Checkpoints a run cannot continue from are named, never resumed from silently or with a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file, save_file

from dlmkit.cli.main import cli
from dlmkit.engine.pipeline import run_recipe
from dlmkit.errors import UserError
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


@pytest.mark.parametrize("step", [-5, 10**12, "4", True])
def test_a_trainer_state_whose_step_does_not_match_its_folder_is_refused(partial: Path, step: object) -> None:
    ckpt = partial / "stage2" / "ckpt"
    latest = ckpt / (ckpt / "latest").read_text().strip()
    state = torch.load(latest / "trainer_state.pt", weights_only=True)
    state["step"] = step
    torch.save(state, latest / "trainer_state.pt")
    code, output = resume(partial)
    assert code == 2 and f"step {step!r} does not match its folder {latest.name}" in output


@pytest.mark.parametrize("artifacts", [[1], {"teacher": 1}, "teacher.safetensors", {"teacher": ""}])
def test_a_run_state_with_malformed_artifacts_is_refused_not_replaced_by_an_untrained_teacher(
    partial: Path, artifacts: object
) -> None:
    state = json.loads((partial / "run_state.json").read_text())
    state["stages"]["teacher"]["artifacts"] = artifacts
    (partial / "run_state.json").write_text(json.dumps(state))
    code, output = resume(partial)
    assert code == 2 and "run_state.json" in output and "Traceback" not in output


def test_a_finished_stage_that_records_no_artifact_is_refused(partial: Path) -> None:
    state = json.loads((partial / "run_state.json").read_text())
    state["stages"]["teacher"]["artifacts"] = {}
    (partial / "run_state.json").write_text(json.dumps(state))
    code, output = resume(partial)
    assert code == 2 and "stage 'teacher' is recorded as finished but names no teacher" in output


def test_a_missing_run_file_is_never_taken_from_the_working_folder(
    partial: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlmkit.storage.run_layout import RunFolder

    recorded = json.loads((partial / "run_state.json").read_text())["stages"]["teacher"]["artifacts"]["teacher"]
    (partial / recorded).unlink()
    decoy = tmp_path / "elsewhere"
    (decoy / recorded).parent.mkdir(parents=True)
    (decoy / recorded).write_bytes(b"another run's teacher")
    monkeypatch.chdir(decoy)  # the same relative path exists here, in another run
    with pytest.raises(UserError, match="a run reads only its own files"):
        RunFolder(partial).finished()
    code, output = resume(partial)
    assert code == 2 and "a run reads only its own files" in output


def test_weights_that_turn_nan_are_never_written_as_a_checkpoint(tmp_path: Path) -> None:
    from dlmkit.errors import CheckpointError
    from dlmkit.storage.checkpoint import latest_checkpoint, write_checkpoint

    net = torch.nn.Linear(2, 2)
    good = write_checkpoint(tmp_path, 1, {"student": net}, {"step": 1}, {"stage": "s"})
    with torch.no_grad():
        net.weight[0, 0] = float("nan")
    with pytest.raises(CheckpointError, match=r"student holds NaN .* at step 2 \(weight\); no checkpoint written"):
        write_checkpoint(tmp_path, 2, {"student": net}, {"step": 2}, {"stage": "s"})
    assert latest_checkpoint(tmp_path) == good and not (tmp_path / "step_0000002").exists()

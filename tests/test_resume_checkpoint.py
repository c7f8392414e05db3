"""``--resume`` finds the newest complete checkpoint however the last run ended, and never restarts silently."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from dlmkit.cli.main import cli
from dlmkit.errors import CheckpointError
from dlmkit.storage.checkpoint import LATEST, read_checkpoint, restoring, resume_checkpoint, write_checkpoint
from dlmkit.storage.run_layout import RunFolder


def _write(folder: Path, step: int) -> Path:
    return write_checkpoint(folder, step, {"model": nn.Linear(2, 2)}, {"step": step}, {"stage": "s"}, keep=5)


def _resume(folder: Path) -> tuple[Path | None, list[str]]:
    said: list[str] = []
    return resume_checkpoint(folder, "s", said.append), said


def test_the_checkpoint_latest_names_is_used_and_announced(tmp_path: Path) -> None:
    _write(tmp_path, 1)
    second = _write(tmp_path, 2)
    found, said = _resume(tmp_path)
    assert found == second
    assert said == [f"[s] resuming from {second} (step 2)"]


def test_a_checkpoint_left_as_old_by_an_interrupted_swap_is_restored(tmp_path: Path) -> None:
    _write(tmp_path, 1)
    second = _write(tmp_path, 2)
    second.rename(tmp_path / ".step_0000002.old")  # the kill fell between the two renames
    found, said = _resume(tmp_path)
    assert found == second and (second / "trainer_state.pt").is_file()
    assert torch.load(second / "trainer_state.pt", weights_only=True)["step"] == 2
    assert "restored it" in said[0]


def test_a_pointer_to_a_missing_step_falls_back_to_the_newest_complete_one(tmp_path: Path) -> None:
    first = _write(tmp_path, 1)
    (tmp_path / LATEST).write_text("step_0000009\n")
    found, said = _resume(tmp_path)
    assert found == first
    assert "names step_0000009, which is missing or incomplete; using step_0000001" in said[0]


def test_stale_temporary_copies_are_removed(tmp_path: Path) -> None:
    _write(tmp_path, 1)
    (tmp_path / ".step_0000002.abc.tmp").mkdir()
    (tmp_path / ".step_0000002.abc.tmp" / "model.safetensors").write_bytes(b"half")
    (tmp_path / ".latest.xyz.tmp").write_text("step_0000002")
    _resume(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [LATEST, "step_0000001"]


def test_checkpoints_none_of_which_is_complete_are_an_error_not_a_restart(tmp_path: Path) -> None:
    first = _write(tmp_path, 1)
    (first / "trainer_state.pt").unlink()
    with pytest.raises(CheckpointError, match=r"no complete checkpoint to resume from .*would lose its steps"):
        _resume(tmp_path)


@pytest.mark.parametrize("make", [False, True])
def test_a_stage_that_never_checkpointed_starts_at_zero_and_says_so(tmp_path: Path, make: bool) -> None:
    folder = tmp_path / "ckpt"
    if make:
        folder.mkdir()
    found, said = _resume(folder)
    assert found is None
    assert said == ["[s] no checkpoint to resume from; starting the stage at step 0"]


@pytest.mark.parametrize("damage", ["weights", "state", "state_shape"])
def test_a_damaged_checkpoint_is_a_named_error(tmp_path: Path, damage: str) -> None:
    target = _write(tmp_path, 1)
    if damage == "weights":
        (target / "model.safetensors").write_bytes(b"\x00" * 40)
    elif damage == "state":
        (target / "trainer_state.pt").write_bytes(b"not a torch file")
    else:
        torch.save([1, 2, 3], target / "trainer_state.pt")
    with pytest.raises(CheckpointError, match=str(target)):
        read_checkpoint(target, {"model": nn.Linear(2, 2)})


def test_a_trainer_state_that_does_not_fit_the_stage_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"does not fit the stage \(KeyError: 'opt_g'\)"), restoring(tmp_path):
        _ = {"step": 1}["opt_g"]


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"stages": 3}'])
def test_a_damaged_run_state_stops_resume_with_exit_2(tmp_path: Path, content: str) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    RunFolder(run_dir).state_file.write_text(content)
    recipe = str(Path(__file__).resolve().parents[1] / "recipes" / "tiny_cpu.toml")
    result = CliRunner().invoke(cli, ["run", recipe, "--output-dir", str(run_dir), "--resume", "--no-progress"])
    assert result.exit_code == 2, result.output
    assert f"{RunFolder(run_dir).state_file}:" in result.output and "Traceback" not in result.output

"""Checkpoint folders named the way users name them, or damaged, are read or refused by name, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlmkit.cli.main import cli
from tests.tiny_run import make_tiny_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_run(tmp_path_factory.mktemp("faults"))


def test_a_checkpoint_folder_given_from_inside_ckpt_is_found(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(run / "teacher" / "ckpt")
    step = sorted(p.name for p in Path.cwd().glob("step_*"))[-1]
    result = CliRunner().invoke(cli, ["teacher", "export", step, str(tmp_path / "out")])  # a one-part path
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "teacher.safetensors").is_file()


def test_a_shallow_path_is_not_taken_for_a_checkpoint_folder(tmp_path: Path) -> None:
    from dlmkit.errors import UserError
    from dlmkit.storage.run_layout import RunFolder

    with pytest.raises(UserError, match="not a stage checkpoint folder"):
        RunFolder.of_checkpoint(Path("/step_0000001"))


@pytest.mark.parametrize("garbage", [b"\x00\xff not text", b"{not json", b"[1, 2]", b"[" * 100_000])
def test_a_damaged_meta_json_is_named(run: Path, tmp_path: Path, garbage: bytes) -> None:
    folder = tmp_path / "copy"
    source = sorted((run / "stage1" / "ckpt").glob("step_*"))[-1]
    folder.mkdir()
    for item in source.iterdir():
        os.link(item, folder / item.name) if item.name != "meta.json" else None
    (folder / "meta.json").write_bytes(garbage)
    result = CliRunner().invoke(cli, ["inspect", str(folder)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{folder / 'meta.json'}: " in result.output

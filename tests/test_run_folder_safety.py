"""A recipe cannot write outside its run folder, and two runs cannot share one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.engine.run_lock import LOCK_FILE, hold_run_folder
from dlmkit.errors import RecipeError, UserError
from dlmkit.recipe.load import load_recipe

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "recipes" / "tiny_cpu.toml"


@pytest.mark.parametrize("name", ["../../victim", "/tmp/abs", "", ".", "..", "a/b", "x" * 65, "outputs", "-x"])
def test_stage_names_that_are_not_plain_folder_names_are_refused(name: str) -> None:
    with pytest.raises(RecipeError, match=r"'name'"):
        load_recipe(TINY, [f"stage.stage1.name={name!r}".replace("'", '"')])


@pytest.mark.parametrize("name", ["stage_1", "Distill-2", "s" * 64])
def test_slug_stage_names_are_accepted(name: str) -> None:
    recipe = load_recipe(TINY, [f'stage.stage1.name="{name}"', f'stage.stage2.init_student="{name}"'])
    assert recipe.stages[1].name == name


def test_a_second_holder_of_a_run_folder_is_refused_naming_the_first(tmp_path: Path) -> None:
    busy = pytest.raises(UserError, match=rf"in use by process {os.getpid()} ")
    with hold_run_folder(tmp_path), busy, hold_run_folder(tmp_path):
        pass
    with hold_run_folder(tmp_path):  # released when the first holder ends
        pass


def test_dlmkit_run_on_a_busy_folder_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with hold_run_folder(run_dir):
        result = CliRunner().invoke(cli, ["run", str(TINY), "--output-dir", str(run_dir), "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "is in use by process" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in run_dir.iterdir()) == [LOCK_FILE]


def test_the_lock_of_a_killed_run_is_not_mistaken_for_a_live_one(tmp_path: Path) -> None:
    holder = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from dlmkit.engine.run_lock import hold_run_folder
        with hold_run_folder(Path({str(tmp_path)!r})):
            print("held", flush=True)
            time.sleep(60)
        """
    )
    with subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
            with pytest.raises(UserError, match=rf"in use by process {proc.pid} "), hold_run_folder(tmp_path):
                pass
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    with hold_run_folder(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text().count(f'"pid": {os.getpid()}') == 1

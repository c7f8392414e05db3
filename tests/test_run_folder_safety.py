"""A recipe cannot write outside its run folder, and two runs cannot share one."""

from __future__ import annotations

import os
import shutil
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


def test_a_lock_linked_out_of_an_empty_folder_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "keep.txt"
    victim.write_text("mine\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / LOCK_FILE).symlink_to(victim)  # an empty folder but for the lock: a new run would take it
    result = CliRunner().invoke(cli, ["run", str(TINY), "--output-dir", str(run), "--no-progress"])
    assert result.exit_code == 2 and f"{run / LOCK_FILE} is a link to {victim}, outside the run folder" in result.output
    assert victim.read_text() == "mine\n"


@pytest.mark.parametrize("planted", ["vocab.txt", "outputs", "stage1/ckpt"])
def test_a_run_folder_with_a_link_out_is_not_resumed(tmp_path: Path, planted: str) -> None:
    from tests.tiny_run import make_tiny_run

    run = make_tiny_run(tmp_path)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine\n")
    shutil.rmtree(run / planted) if (run / planted).is_dir() else (run / planted).unlink()
    (run / planted).symlink_to(victim if planted != "vocab.txt" else victim / "keep.txt")
    args = ["run", str(run / "resolved.toml"), "--output-dir", str(run), "--no-progress", "--resume"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and f"{run / planted} is a link to {victim}" in result.output
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"] and (victim / "keep.txt").read_text() == "mine\n"


def test_a_link_inside_the_run_folder_is_allowed(tmp_path: Path) -> None:
    from dlmkit.storage.run_guard import check_no_links_out

    (tmp_path / "data").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "data")
    check_no_links_out(tmp_path)  # a link that stays inside writes nowhere else
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(UserError, match="a loop"):
        check_no_links_out(tmp_path)

"""A run starts only in a new or empty folder, and ``--resume`` continues only the recipe it started with."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.engine.pipeline import run_recipe
from dlmkit.errors import UserError
from dlmkit.recipe.load import load_recipe
from dlmkit.storage.run_guard import changed_keys
from tests.kill_resume import run_killed
from tests.test_pipeline import SHORT, TINY


def test_a_run_killed_in_its_first_stage_is_not_restarted_over_without_resume(tmp_path: Path) -> None:
    recipe = load_recipe(TINY, [*SHORT, "stage.teacher.log_every=1"])
    run_killed(recipe, tmp_path / "run", "teacher", 5)
    checkpoints = sorted(p.name for p in (tmp_path / "run" / "teacher" / "ckpt").glob("step_*"))
    with pytest.raises(UserError, match="already holds a run; pass --resume"):
        run_recipe(recipe, output_dir=tmp_path / "run", progress=False)
    assert sorted(p.name for p in (tmp_path / "run" / "teacher" / "ckpt").glob("step_*")) == checkpoints


def test_a_folder_of_other_files_is_never_written(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "vocab.txt").write_text("my own words\n")
    (mine / "results.json").write_text("{}")
    args = ["run", str(TINY), "--output-dir", str(mine), "--no-progress", *(a for s in SHORT for a in ("--set", s))]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "is not empty and holds no run (results.json, vocab.txt)" in result.output
    assert (mine / "vocab.txt").read_text() == "my own words\n" and sorted(p.name for p in mine.iterdir()) == [
        "results.json",
        "vocab.txt",
    ]


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run whose last stage has not finished (its time ran out)."""
    run = tmp_path_factory.mktemp("partial") / "run"
    run_recipe(
        load_recipe(TINY, [*SHORT, "stage.stage2.steps=400", "stage.stage2.max_minutes=0.002"]), run, progress=False
    )
    return run


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("teacher.hidden_size=64", "teacher.hidden_size"),
        ("data.custom_vocab_size=300", "data.custom_vocab_size"),
        ("stage.stage2.optim.generator.lr=1e-3", "stage.stage2.optim.generator.lr"),
        ("stage.stage2.objective.alpha=0.7", "stage.stage2.objective.alpha"),
    ],
)
def test_resume_refuses_a_changed_recipe_naming_the_key(partial: Path, override: str, key: str) -> None:
    recipe = load_recipe(TINY, [*SHORT, "stage.stage2.steps=400", "stage.stage2.max_minutes=0.002", override])
    with pytest.raises(UserError, match=rf"--resume with a changed recipe: {key} differ"):
        run_recipe(recipe, partial, resume=True, progress=False)


def test_resume_may_change_how_long_and_how_often(partial: Path) -> None:
    more = ["stage.stage2.steps=6", "stage.stage2.log_every=3", "stage.stage2.eval_every=3", "runtime.threads=2"]
    state = run_recipe(load_recipe(TINY, [*SHORT, *more]), partial, resume=True, progress=False)
    assert state["stages"]["stage2"]["summary"]["complete"] is True


def test_changed_keys_reads_stages_by_name() -> None:
    old = {"seed": 0, "stage": [{"name": "a", "steps": 5, "lr": 1e-3}], "runtime": {"threads": 1}}
    new = {"seed": 1, "stage": [{"name": "a", "steps": 9, "lr": 2e-3}], "runtime": {"threads": 2}}
    assert changed_keys(old, new) == ["seed", "stage.a.lr"]


def test_a_run_started_before_a_key_existed_still_resumes(partial: Path) -> None:
    resolved = partial / "resolved.toml"
    text = resolved.read_text()
    assert "keep_max_teacher_error = " in text
    resolved.write_text("\n".join(line for line in text.splitlines() if not line.startswith("keep_max_teacher_error")))
    recipe = load_recipe(TINY, [*SHORT, "stage.stage2.steps=400", "stage.stage2.max_minutes=0.002"])
    state = run_recipe(recipe, partial, resume=True, progress=False)  # the missing key takes its default: no change
    assert "stage2" in state["stages"]


def test_an_empty_output_dir_is_refused_on_the_command_line_and_in_the_recipe(tmp_path: Path) -> None:
    from dlmkit.errors import RecipeError

    result = CliRunner().invoke(cli, ["run", str(TINY), "--output-dir", ""])
    assert result.exit_code == 2 and "give a folder for the run" in result.output
    with pytest.raises(RecipeError, match="'output_dir' is an empty path"):
        load_recipe(TINY, ['output_dir=""'])

"""``show`` prints a recipe whose files are not there yet, and ``validate --no-files`` checks it apart from them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

from dlmkit.cli.main import cli

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO / "recipes" / "dlm_one_qqp.toml"


def test_show_prints_table_5_although_the_teacher_is_not_there_yet() -> None:
    teacher = REPO / "checkpoints" / "diffuseq_qqp" / "teacher.safetensors"
    assert not teacher.exists()  # as in a fresh clone: the paper's teacher is trained or imported on a GPU
    result = CliRunner().invoke(cli, ["show", str(PAPER)])
    assert result.exit_code == 0, result.output
    shown = tomllib.loads(result.stdout)
    first, second = shown["stage"]
    assert shown["sampler"]["t_init"] == 1490
    assert (first["t_min"], first["t_max"]) == (0, 1976)
    assert first["objective"]["alpha"] == 1.2
    assert (first["objective"]["a_dsm"], first["objective"]["b_adv_psi"]) == (0.5, 0.5)
    assert (first["objective"]["a_sd"], first["objective"]["b_adv_g"]) == (0.5, 0.5)
    assert (second["objective"]["a_sd"], second["objective"]["b_adv_g"]) == (0.9, 0.1)
    assert first["optim"]["psi"]["lr"] == 3e-5 and first["optim"]["generator"]["lr"] == 1e-5
    assert f"warning: [teacher] 'checkpoint': no such file {teacher}" in result.stderr


def test_validate_no_files_checks_the_recipe_and_says_what_it_skipped() -> None:
    result = CliRunner().invoke(cli, ["validate", "--no-files", str(PAPER)])
    assert result.exit_code == 0, result.output
    assert "skipped (--no-files): [teacher] checkpoint exists" in result.stderr
    assert f"ok: {PAPER}" in result.stdout
    as_json = CliRunner().invoke(cli, ["validate", "--no-files", "--json", str(PAPER)])
    assert json.loads(as_json.stdout)["skipped"][0].startswith("[teacher] checkpoint")


def test_without_the_flag_validate_still_wants_the_files() -> None:
    result = CliRunner().invoke(cli, ["validate", str(PAPER)])
    assert result.exit_code == 2 and "'checkpoint': no such file" in result.stderr


def test_a_problem_in_the_recipe_itself_still_fails_both(tmp_path: Path) -> None:
    for command in (["show"], ["validate", "--no-files"]):
        result = CliRunner().invoke(cli, [*command, str(PAPER), "--set", "stage.stage1.objective.alpah=1.0"])
        assert result.exit_code == 2, (command, result.output)
        assert "alpah" in result.stderr and "alpha" in result.stderr
        assert "no such file" not in result.stderr  # only what is wrong with the recipe

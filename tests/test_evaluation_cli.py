"""`dlmkit eval`: table and JSON output, defaults, --mbr, --metrics, directories and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlmkit.cli.eval_command import eval_command, make_eval_command
from dlmkit.errors import ComponentNotFound, UserError
from dlmkit.evaluation.output_files import OutputRow, write_output_file
from dlmkit.metrics.dist1 import Dist1Metric

MBR_SET = ["how can i make friends?", "how do you make friends?", "what is the best way to make friends?"]


@pytest.fixture
def seed_files(tmp_path: Path) -> list[Path]:
    """Three seeds, two examples; the first example is the spec's MBR set."""
    second = ["why is the sky blue?", "why is the sky so blue?", "what makes the sky blue?"]
    return [
        write_output_file(
            tmp_path / f"seed{k}_step2000.json",
            [
                OutputRow(f"[CLS] {MBR_SET[k]} [SEP]", "[CLS] how do i make friends? [SEP]", "[CLS] a [SEP]"),
                OutputRow(f"[CLS] {second[k]} [SEP] [PAD]", "[CLS] why is the sky blue? [SEP]", "[CLS] b [SEP]"),
            ],
        )
        for k in range(3)
    ]


def _run(*args: str) -> dict[str, float]:
    result = CliRunner().invoke(eval_command, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data: dict[str, float] = json.loads(result.output)
    return data


def test_json_single_file_has_one_key_per_default_metric(seed_files: list[Path]) -> None:
    data = _run(str(seed_files[0]), "--json")
    assert list(data) == ["bleu", "rouge_l", "dist1", "avg_len"]
    assert data["avg_len"] == pytest.approx((7 + 8) / 2)  # "[SEP] [PAD]" leaves one more piece


def test_json_several_files_add_diversity(seed_files: list[Path]) -> None:
    data = _run(*map(str, seed_files), "--json")
    assert list(data) == ["bleu", "rouge_l", "dist1", "avg_len", "self_bleu", "div4"]
    single = [_run(str(f), "--json", "--metrics", "bleu")["bleu"] for f in seed_files]
    assert data["bleu"] == pytest.approx(sum(single) / 3)


def test_json_mbr_reports_the_picks_without_diversity(seed_files: list[Path]) -> None:
    data = _run(*map(str, seed_files), "--mbr", "--json", "--metrics", "bleu,avg_len")
    assert list(data) == ["bleu", "avg_len"]
    assert _run(*map(str, seed_files), "--mbr", "--json")["dist1"] == 1.0
    assert "self_bleu" not in _run(*map(str, seed_files), "--mbr", "--json")


def test_directory_stands_for_its_json_files(seed_files: list[Path]) -> None:
    assert _run(str(seed_files[0].parent), "--json") == _run(*map(str, seed_files), "--json")


def test_table_lists_files_summary_rows_and_signature(seed_files: list[Path]) -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        eval_command, [*map(str, seed_files), "--metrics", "bleu,self_bleu,sacrebleu"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    for text in ["bleu", "self_bleu", "sacrebleu", "seed0_step2000.json", "mean of 3 files", "across 3 seeds"]:
        assert text in result.output
    assert "sacrebleu signature: nrefs:1|" in result.output
    mbr = CliRunner(env={"COLUMNS": "200"}).invoke(eval_command, [*map(str, seed_files), "--mbr"])
    assert "MBR over 3 files" in mbr.output and "across" not in mbr.output


def test_unknown_metric_and_empty_list_are_user_errors(seed_files: list[Path]) -> None:
    result = CliRunner().invoke(eval_command, [str(seed_files[0]), "--metrics", "bleu,rouge"])
    assert isinstance(result.exception, ComponentNotFound)
    assert "rouge_l" in str(result.exception)
    result = CliRunner().invoke(eval_command, [str(seed_files[0]), "--metrics", " , "])
    assert isinstance(result.exception, UserError)


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(eval_command, [str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_metric_source_is_pluggable(seed_files: list[Path]) -> None:
    command = make_eval_command(lambda: {"d1": Dist1Metric()})
    result = CliRunner().invoke(command, [str(seed_files[0]), "--json", "--metrics", "d1"], catch_exceptions=False)
    assert json.loads(result.output) == {"d1": 1.0}

"""``dlmkit generate``, ``Generator`` and bundles: clean text out, the same for the same seed, bad input named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import dlmkit
from dlmkit.cli.main import cli
from dlmkit.engine.pipeline import run_recipe
from dlmkit.errors import UserError
from dlmkit.recipe.load import load_recipe
from tests.test_pipeline import SHORT, TINY

SOURCES = ["How can I learn Python quickly?", "What is the best way to lose weight?"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generate") / "run"
    run_recipe(load_recipe(TINY, [*SHORT, "stage.stage2.steps=2"]), folder, progress=False)
    return folder


def test_the_api_and_the_command_give_the_same_clean_text(run: Path) -> None:
    generator = dlmkit.Generator.load(run)
    outputs = generator.generate(SOURCES, num_samples=2, seed=3)
    assert [len(o) for o in outputs] == [2, 2]
    assert all(
        isinstance(t, str) and "[CLS]" not in t and "[SEP]" not in t and "[PAD]" not in t for o in outputs for t in o
    )
    result = CliRunner().invoke(cli, ["generate", str(run), *SOURCES, "--num-samples", "2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [t for o in outputs for t in o]
    again = generator.generate(SOURCES, num_samples=2, seed=3)
    assert again == outputs


def test_jsonl_records_keep_the_source_and_mbr_keeps_one(run: Path) -> None:
    result = CliRunner().invoke(
        cli, ["generate", str(run), *SOURCES, "--format", "jsonl", "--mbr", "--num-samples", "3"]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in records] == SOURCES and all(len(r["outputs"]) == 1 for r in records)


def test_a_file_and_stdin_give_one_line_per_source(run: Path, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("\n".join(SOURCES) + "\n", encoding="utf-8")
    from_file = CliRunner().invoke(
        cli, ["generate", str(run), "--file", str(tmp_path / "in.txt"), "--out", str(tmp_path / "o")]
    )
    assert from_file.exit_code == 0, from_file.output
    from_stdin = CliRunner().invoke(cli, ["generate", str(run)], input="\n".join(SOURCES) + "\n")
    assert (tmp_path / "o").read_text().splitlines() == from_stdin.stdout.splitlines()
    assert len(from_stdin.stdout.splitlines()) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"first\n\nthird\n", "line 2 is empty or only whitespace"),
        (b"first\n   \t\n", "line 2 is empty or only whitespace"),
        (b"caf\xe9\n", "not UTF-8 text (byte 3)"),
        (b"\x7fELF\x00\x01", "binary data (a NUL byte at offset 4)"),
        (b"", "no sources"),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(run: Path, tmp_path: Path, data: bytes, message: str) -> None:
    (tmp_path / "in.txt").write_bytes(data)
    out = tmp_path / "out.txt"
    result = CliRunner().invoke(cli, ["generate", str(run), "--file", str(tmp_path / "in.txt"), "--out", str(out)])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not out.exists()
    piped = CliRunner().invoke(cli, ["generate", str(run)], input=data)
    assert piped.exit_code == 2 and message in piped.output


def test_a_long_source_is_cut_with_a_warning_or_refused(run: Path) -> None:
    long = " ".join(["word"] * 300)
    cut = CliRunner().invoke(cli, ["generate", str(run), long, SOURCES[0]])
    assert cut.exit_code == 0 and "1 source(s) were longer than the model's condition" in cut.output
    refused = CliRunner().invoke(cli, ["generate", str(run), long, "--no-truncate"])
    assert refused.exit_code == 2 and "longer than the model's condition" in refused.output
    with pytest.raises(UserError, match="source 2 of 2 is empty"):
        dlmkit.Generator.load(run).generate(["fine", "  "])


def export(run: Path, dest: Path) -> None:
    result = CliRunner().invoke(cli, ["export", str(run), str(dest)])
    assert result.exit_code == 0, result.output


def test_a_bundle_alone_generates_what_its_run_does(run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "bundle"
    export(run, bundle)
    assert sorted(p.name for p in bundle.iterdir()) == [
        "MODEL_CARD.md",
        "bundle.json",
        "model.safetensors",
        "vocab.txt",
    ]
    assert "| student | bleu |" in (bundle / "MODEL_CARD.md").read_text()
    moved = tmp_path / "elsewhere" / "bundle"
    moved.parent.mkdir()
    bundle.rename(moved)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    monkeypatch.setenv("DLMKIT_DATA_ROOT", str(tmp_path / "no-data-here"))
    from_bundle = dlmkit.Generator.load(moved).generate(SOURCES, seed=5)
    monkeypatch.delenv("DLMKIT_DATA_ROOT")
    assert from_bundle == dlmkit.Generator.load(run).generate(SOURCES, seed=5)
    result = CliRunner().invoke(cli, ["generate", str(moved), SOURCES[0], "--seed", "5"])
    assert result.exit_code == 0 and result.stdout.splitlines() == from_bundle[0]


def test_export_refuses_a_folder_in_use(run: Path, tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["export", str(run), str(tmp_path / "taken")])
    assert result.exit_code == 2 and "not an empty folder" in result.output
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: (b / "vocab.txt").write_text((b / "vocab.txt").read_text() + "extra\n"), "vocab_sha256"),
        (lambda b: _edit(b, version=99), "bundle version 99 is newer"),
        (lambda b: _edit(b, seq_len=7), "seq_len"),
        (lambda b: _edit(b, schedule={"name": "sqrt", "num_timesteps": 100}), "was trained on 2000"),
        (lambda b: (b / "bundle.json").write_text("{not json"), "not a readable bundle manifest"),
    ],
)
def test_a_bundle_whose_parts_disagree_is_refused_by_part(
    run: Path, tmp_path: Path, damage: object, message: str
) -> None:
    bundle = tmp_path / "bundle"
    export(run, bundle)
    damage(bundle)  # type: ignore[operator]
    result = CliRunner().invoke(cli, ["generate", str(bundle), SOURCES[0]])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def _edit(bundle: Path, **values: object) -> None:
    manifest = json.loads((bundle / "bundle.json").read_text())
    manifest.update(values)
    (bundle / "bundle.json").write_text(json.dumps(manifest))

"""Damaged or poisoned teacher files are refused with a message naming the file, never imported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import safetensors.torch
import torch
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.errors import CheckpointError
from dlmkit.interfaces.teacher import as_module
from dlmkit.storage.teacher_files import FORMAT, load_teacher, save_teacher

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints" / "proof_modes_teacher" / "teacher.safetensors"
PROOF = Path(__file__).resolve().parents[1] / "recipes" / "proof_modes.toml"
SHIPPED_REF = 'checkpoint = "../checkpoints/proof_modes_teacher/teacher.safetensors"'


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_teacher_with_non_finite_weights_is_refused(tmp_path: Path, value: float) -> None:
    teacher = load_teacher(SHIPPED)
    with torch.no_grad():
        next(as_module(teacher).parameters()).view(-1)[3] = value
    path = tmp_path / "teacher.safetensors"
    save_teacher(teacher, path)
    with pytest.raises(CheckpointError, match=r"teacher.safetensors: tensor '.*' holds NaN or infinite values"):
        load_teacher(path)


@pytest.mark.parametrize(
    "metadata",
    [
        {"format": FORMAT, "config": "{}", "vocab_size": "20", "seq_len": "24"},  # no component
        {"format": FORMAT, "component": "diffuseq", "config": "not json", "vocab_size": "20", "seq_len": "24"},
        {"format": FORMAT, "component": "diffuseq", "config": "{}", "vocab_size": "many", "seq_len": "24"},
        {
            "format": FORMAT,
            "component": "diffuseq",
            "config": "[" * 100_000 + "]" * 100_000,
            "vocab_size": "20",
            "seq_len": "24",
        },  # nested past the parser's recursion limit
        {"format": FORMAT, "component": "diffuseq", "config": "{}", "vocab_size": "-5", "seq_len": "24"},
        {"format": FORMAT, "component": "diffuseq", "config": "{}", "vocab_size": "20", "seq_len": "0"},
    ],
)
def test_damaged_metadata_is_named_not_a_traceback(tmp_path: Path, metadata: dict[str, str]) -> None:
    path = tmp_path / "teacher.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(2)}, str(path), metadata=metadata)
    with pytest.raises(CheckpointError, match=r"teacher.safetensors: damaged teacher metadata"):
        load_teacher(path)
    imported = CliRunner().invoke(cli, ["teacher", "import", str(path), str(tmp_path / "out")])
    assert imported.exit_code == 2 and "damaged teacher metadata" in imported.output
    assert not (tmp_path / "out").exists()
    shown = CliRunner().invoke(cli, ["inspect", str(path)])  # inspect shows a damaged file rather than stopping
    assert shown.exit_code == 0 and "Traceback" not in shown.output and "vocab_size" in shown.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("command", [["inspect"], ["teacher", "import"]])
def test_a_fifo_is_refused_before_it_is_opened(tmp_path: Path, command: list[str]) -> None:
    fifo = tmp_path / "teacher.safetensors"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    result = CliRunner().invoke(cli, [*command, str(fifo), *(["out"] if command[0] == "teacher" else [])])
    assert result.exit_code == 2 and "not a regular file (a FIFO, socket or device)" in result.output


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (None, "not a readable safetensors file"),
        ({"format": FORMAT, "config": "{}", "vocab_size": "20", "seq_len": "24"}, "damaged teacher metadata"),
        ({"format": FORMAT, "component": "modes_mlp", "config": "[1]", "vocab_size": "20", "seq_len": "24"}, "JSON"),
        ({"format": FORMAT, "component": "nope", "config": "{}", "vocab_size": "20", "seq_len": "24"}, "no teacher"),
        ({"format": "other"}, "not a dlmkit teacher file"),
    ],
)
def test_validate_reads_the_teacher_header_without_loading_weights(
    tmp_path: Path, metadata: dict[str, str] | None, message: str
) -> None:
    path = tmp_path / "teacher.safetensors"
    if metadata is None:
        path.write_bytes(b"\x00" * 64)
    else:
        safetensors.torch.save_file({"w": torch.zeros(2)}, str(path), metadata=metadata)
    recipe = PROOF.read_text(encoding="utf-8").replace(SHIPPED_REF, f'checkpoint = "{path}"')
    assert SHIPPED_REF in PROOF.read_text(encoding="utf-8")
    (tmp_path / "r.toml").write_text(recipe, encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "r.toml")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"[teacher]: 'checkpoint': {path}" in result.output and message in result.output


def test_validate_builds_the_shipped_teacher_on_the_meta_device_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The header check builds the network where it costs nothing, and never reads the weights."""
    import dlmkit.storage.teacher_files as module

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("validation loaded weights")

    monkeypatch.setattr(module, "load_module", refuse)
    result = CliRunner().invoke(cli, ["validate", str(PROOF)])
    assert result.exit_code == 0, result.output


def test_a_teacher_file_with_integer_weights_is_not_imported(tmp_path: Path) -> None:
    from safetensors import safe_open

    weights = safetensors.torch.load_file(str(SHIPPED))
    with safe_open(str(SHIPPED), "pt") as handle:
        metadata = handle.metadata()
    weights = {k: (v * 100).to(torch.int32) for k, v in weights.items()}
    path = tmp_path / "teacher.safetensors"
    safetensors.torch.save_file(weights, str(path), metadata=metadata)
    result = CliRunner().invoke(cli, ["teacher", "import", str(path), str(tmp_path / "out")])
    assert result.exit_code == 2 and "is stored as I32, not floating point" in result.output
    assert not (tmp_path / "out").exists()

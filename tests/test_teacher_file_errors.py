"""Damaged or poisoned teacher files are refused with a message naming the file, never imported."""

from __future__ import annotations

from pathlib import Path

import pytest
import safetensors.torch
import torch

from dlmkit.errors import CheckpointError
from dlmkit.interfaces.teacher import as_module
from dlmkit.storage.teacher_files import FORMAT, load_teacher, save_teacher

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints" / "proof_modes_teacher" / "teacher.safetensors"


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
    ],
)
def test_damaged_metadata_is_named_not_a_traceback(tmp_path: Path, metadata: dict[str, str]) -> None:
    path = tmp_path / "teacher.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(2)}, str(path), metadata=metadata)
    with pytest.raises(CheckpointError, match=r"teacher.safetensors: damaged teacher metadata"):
        load_teacher(path)

"""Checkpoints round-trip bit for bit, keep tied weights tied, and survive a crash during a write."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from dlmkit.errors import CheckpointError
from dlmkit.storage import checkpoint as ckpt
from dlmkit.storage.teacher_files import load_teacher, save_teacher
from dlmkit.testing.toy_teacher import ToyTeacher, ToyTeacherParams, build_toy_teacher


def toy(seed: int = 0) -> ToyTeacher:
    torch.manual_seed(seed)
    return build_toy_teacher(ToyTeacherParams(), vocab_size=50, seq_len=12)


def test_teacher_round_trip_is_bit_exact_and_keeps_the_tie(tmp_path: Path) -> None:
    teacher = toy()
    save_teacher(teacher, tmp_path / "teacher.safetensors")
    loaded = load_teacher(tmp_path / "teacher.safetensors")
    a, b = teacher.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert loaded.training is False
    with torch.no_grad():
        loaded.embedding_weight.add_(1.0)
    ids = torch.randint(0, 50, (2, 12))
    assert torch.allclose(loaded.logits(loaded.embed(ids)), loaded.logits(loaded.embed(ids)))
    assert torch.equal(loaded.embed(ids), loaded.embedding_weight[ids])


def test_training_checkpoint_round_trip(tmp_path: Path) -> None:
    model, other = toy(0), toy(1)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss = torch.stack([p.sum() for p in model.parameters()]).sum()
    loss.backward()
    opt.step()
    state = {"step": 7, "optimizer": opt.state_dict(), "rng": ckpt.rng_state()}
    target = ckpt.write_checkpoint(tmp_path, 7, {"model": model}, state, {"stage": "s"})
    assert ckpt.latest_checkpoint(tmp_path) == target
    restored = ckpt.read_checkpoint(target, {"model": other})
    for (k, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    assert restored["step"] == 7
    new_opt = torch.optim.AdamW(other.parameters(), lr=1e-3)
    new_opt.load_state_dict(restored["optimizer"])
    assert torch.equal(new_opt.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])


def test_crash_during_write_leaves_previous_checkpoint_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = toy(0)
    first = ckpt.write_checkpoint(tmp_path, 1, {"model": model}, {"step": 1}, {})
    before = {p.name: p.read_bytes() for p in first.iterdir()}

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(ckpt.torch, "save", crash)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    with pytest.raises(KeyboardInterrupt):
        ckpt.write_checkpoint(tmp_path, 2, {"model": model}, {"step": 2}, {})
    assert ckpt.latest_checkpoint(tmp_path) == first
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before
    assert not (tmp_path / "step_0000002").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_crash_during_single_file_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "teacher.safetensors"
    save_teacher(toy(0), target)
    before = target.read_bytes()

    def crash(module: object, filename: str, metadata: object = None) -> None:
        Path(filename).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt.safetensors.torch, "save_model", crash)
    with pytest.raises(OSError):
        save_teacher(toy(1), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["teacher.safetensors"]


def test_unsafe_trainer_state_is_refused(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("pwned",))

    path = tmp_path / "trainer_state.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(CheckpointError, match="cannot load trainer state safely"):
        ckpt.load_state(path)


def test_teacher_stored_in_fp16_loads_as_float32_with_rounded_weights(tmp_path: Path) -> None:
    teacher = toy()
    save_teacher(teacher, tmp_path / "half.safetensors", dtype=torch.float16)
    save_teacher(teacher, tmp_path / "full.safetensors")
    assert (tmp_path / "half.safetensors").stat().st_size < 0.6 * (tmp_path / "full.safetensors").stat().st_size
    loaded = load_teacher(tmp_path / "half.safetensors")
    for key, value in teacher.state_dict().items():
        got = loaded.state_dict()[key]
        assert got.dtype == value.dtype, key
        if value.is_floating_point():
            assert torch.equal(got, value.half().float()), key


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, whatever the test runner's is, restored afterwards."""
    mask = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(mask)


@pytest.mark.usefixtures("umask_022")
def test_saved_files_get_the_permissions_a_plain_open_would(tmp_path: Path) -> None:
    """safetensors writes its own 0600 file; a shipped or shared checkpoint must stay readable."""
    save_teacher(toy(), tmp_path / "teacher.safetensors")
    ckpt.save_module(toy(), tmp_path / "module.safetensors")
    for name in ("teacher.safetensors", "module.safetensors"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name


@pytest.mark.usefixtures("umask_022")
def test_checkpoint_folders_get_the_permissions_a_plain_mkdir_would(tmp_path: Path) -> None:
    ckpt.write_checkpoint(tmp_path, 3, {"model": toy()}, {}, {"stage": "s"})
    target = ckpt.latest_checkpoint(tmp_path)
    assert target is not None
    assert target.stat().st_mode & 0o777 == 0o755
    for item in target.iterdir():
        assert item.stat().st_mode & 0o777 == 0o644, item.name

"""The prepared device check runs its every path on the CPU (``--small``), so a device run needs no edit."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _device_check():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("device_check", REPO / "benchmarks" / "device_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_small_device_check_covers_every_stage_and_sampler(tmp_path: Path) -> None:
    from dlmkit.plugins import get_registry

    assert _device_check().main(["--small", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "device_check.json").read_text())
    assert list(report["stages"]) == ["teacher", "stage1", "stage2"]
    assert [s["kind"] for s in report["stages"].values()] == ["train_teacher", "distill", "distill"]
    assert all(s["steps_per_s"] > 0 and s["samples_per_s"] > 0 for s in report["stages"].values())
    assert set(report["sampling"]["samplers"]) == set(get_registry().names("sampler"))
    assert report["sampling"]["samplers"]["ancestral"]["nfe"] == 2000
    assert report["sampling"]["versus"]["speedup"] > 1.0
    table = (tmp_path / "device_check.md").read_text()
    assert "| stage1 | distill |" in table and "| dpm_solver_pp | teacher |" in table
    recipe = (tmp_path / "device_check.toml").read_text()
    assert 'name = "sid_gan"' in recipe and "alpha = 1.2" in recipe  # the paper recipe's own objective tables


def test_without_a_device_the_full_check_refuses_and_says_why(capsys: object) -> None:
    import torch

    if torch.cuda.is_available():  # pragma: no cover - on a device the full check is the real one
        return
    assert _device_check().main([]) == 2

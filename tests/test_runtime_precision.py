"""``precision = "auto"`` takes bf16 only where it is fast: never on a CPU that would emulate it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.engine import runtime
from dlmkit.engine.runtime import precision_notes, resolve_precision
from tests.tiny_run import FAST, TINY


@pytest.mark.parametrize(
    ("device", "native", "expected"),
    [("cpu", True, "bf16"), ("cpu", False, "fp32"), ("cuda", False, "bf16"), ("meta", True, "fp32")],
)
def test_auto_precision_follows_the_hardware(
    monkeypatch: pytest.MonkeyPatch, device: str, native: bool, expected: str
) -> None:
    monkeypatch.setattr(runtime, "native_cpu_bf16", lambda: native)
    assert resolve_precision("auto", torch.device(device)) == expected


@pytest.mark.parametrize("written", ["fp32", "bf16"])
def test_an_explicit_precision_is_kept(monkeypatch: pytest.MonkeyPatch, written: str) -> None:
    monkeypatch.setattr(runtime, "native_cpu_bf16", lambda: not written)
    assert resolve_precision(written, torch.device("cpu")) == written


@pytest.mark.parametrize(
    ("written", "native", "reason", "warns"),
    [
        ("auto", False, "fp32 (auto: this CPU has no native bf16)", False),
        ("auto", True, "bf16 (auto: this CPU has native bf16)", False),
        ("bf16", True, "bf16 (as the recipe asks)", False),
        ("bf16", False, "bf16 (as the recipe asks)", True),
        ("fp32", False, "fp32 (as the recipe asks)", False),
    ],
)
def test_the_choice_is_explained_and_emulated_bf16_warns(
    monkeypatch: pytest.MonkeyPatch, written: str, native: bool, reason: str, warns: bool
) -> None:
    monkeypatch.setattr(runtime, "native_cpu_bf16", lambda: native)
    said, warning = precision_notes(written, torch.device("cpu"))
    assert said == reason
    assert (warning is not None) == warns
    if warning is not None:
        assert "12-20x slower" in warning and '"auto"' in warning


def test_a_run_logs_its_precision_and_the_warning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(runtime, "native_cpu_bf16", lambda: False)
    fast = [arg for value in FAST for arg in ("--set", value)]
    result = CliRunner().invoke(
        cli,
        ["run", str(TINY), "--output-dir", str(tmp_path / "r"), "--set", 'runtime.precision="bf16"', *fast],
    )
    assert result.exit_code == 0, result.output
    assert "runtime: device cpu, precision bf16 (as the recipe asks), threads 1" in result.output
    assert 'warning: [runtime] precision = "bf16" on a CPU without native bf16' in result.output

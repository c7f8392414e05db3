"""``precision = "auto"`` takes bf16 only where it is fast: never on a CPU that would emulate it."""

from __future__ import annotations

import pytest
import torch

from dlmkit.engine import runtime
from dlmkit.engine.runtime import resolve_precision


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

"""benchmarks/against_official.py: skipped with a reason without a checkout, refused for a wrong one."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "against_official.py"


def load() -> object:
    spec = importlib.util.spec_from_file_location("against_official", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("against_official", module)
    spec.loader.exec_module(module)
    return module


def test_without_a_checkout_it_says_it_is_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert load().main([]) == 0  # type: ignore[attr-defined]
    assert "skipped: give --diffuseq PATH" in capsys.readouterr().out


def test_a_folder_that_is_not_diffuseq_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert load().main(["--diffuseq", str(tmp_path)]) == 2  # type: ignore[attr-defined]
    assert "is not a DiffuSeq checkout" in capsys.readouterr().out

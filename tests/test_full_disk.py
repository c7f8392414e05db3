"""A disk that fills at any write of a run ends the command with a clear message and exit 2, and the run
then resumes to the end: the metrics log, the JSON state files, torch's and safetensors' writers."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import safetensors.torch
import torch
from click.testing import CliRunner

from dlmkit.cli.main import cli
from tests.tiny_run import FAST, TINY

ARGS = ["run", str(TINY), "--no-progress", *(a for s in FAST for a in ("--set", s))]


def _refuse_after(calls: int, original: Callable[..., Any], error: Callable[[], BaseException]) -> Callable[..., Any]:
    """``original`` for the first ``calls`` calls, then the disk's refusal."""
    seen = {"n": 0}

    def patched(*args: Any, **kwargs: Any) -> Any:
        seen["n"] += 1
        if seen["n"] > calls:
            raise error()
        return original(*args, **kwargs)

    return patched


def _enospc() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _appends(path: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    if mode.startswith("a"):
        raise _enospc()
    return ORIGINAL_OPEN(path, mode, *args, **kwargs)


ORIGINAL_OPEN = Path.open

WRITERS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "metrics.jsonl": lambda mp: mp.setattr(Path, "open", _appends),
    "JSON state": lambda mp: mp.setattr(Path, "write_text", _refuse_after(6, Path.write_text, _enospc)),
    "torch.save": lambda mp: mp.setattr(
        torch, "save", _refuse_after(1, torch.save, lambda: RuntimeError("[enforce fail] file write failed"))
    ),
    "safetensors": lambda mp: mp.setattr(
        safetensors.torch,
        "save_file",
        _refuse_after(
            3,
            safetensors.torch.save_file,
            lambda: safetensors.SafetensorError("IoError(Os { code: 28, kind: StorageFull })"),
        ),
    ),
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_full_disk_at_any_write_is_named_and_the_run_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    run = tmp_path / "run"
    with monkeypatch.context() as mp:
        WRITERS[writer](mp)
        full = CliRunner().invoke(cli, [*ARGS, "--output-dir", str(run)])
    assert full.exit_code == 2, full.output
    assert "no space left on device" in full.output.lower() and "--resume" in full.output
    assert "Traceback" not in full.output and str(run) in full.output  # the file the disk refused
    resumed = CliRunner().invoke(cli, [*ARGS, "--output-dir", str(run), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert (run / "results.json").is_file()

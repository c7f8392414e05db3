"""dlmkit observer hooks: per-stage CSV scalars, switched on by the environment variable ``DLMKIT_CSV_LOG``.

Off unless asked for, so installing the plugin changes nothing: with ``DLMKIT_CSV_LOG=1`` every
stage that starts gets ``<run_dir>/<stage>/scalars.csv`` holding what ``on_log`` reports
(losses, validation scores, steps per second) and, when the stage ends, its numeric summary as
``summary.<key>`` rows.  ``on_log`` does not carry the run folder, so ``on_stage_start``
remembers where each stage writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dlmkit.hookspecs import hookimpl
from dlmkit_example_logger.scalars import append_scalars

ENV_VAR = "DLMKIT_CSV_LOG"
FILE_NAME = "scalars.csv"

_targets: dict[str, Path] = {}
"""The CSV file of every stage that started while logging was on."""


def enabled() -> bool:
    """Whether ``DLMKIT_CSV_LOG`` asks for CSV logs (``1``, ``true``, ``yes`` or ``on``)."""
    return os.environ.get(ENV_VAR, "").strip().lower() in {"1", "true", "yes", "on"}


@hookimpl
def on_stage_start(stage: str, run_dir: Path) -> None:
    if enabled():
        _targets[stage] = Path(run_dir) / stage / FILE_NAME
    else:
        _targets.pop(stage, None)


@hookimpl
def on_log(stage: str, step: int, metrics: dict[str, float]) -> None:
    target = _targets.get(stage)
    if target is not None:
        append_scalars(target, step, metrics)


@hookimpl
def on_stage_end(stage: str, summary: dict[str, Any]) -> None:
    target = _targets.pop(stage, None)
    if target is not None:
        step = summary.get("steps")
        append_scalars(target, step if isinstance(step, int) else -1, summary, prefix="summary.")

"""Progress display: a rich bar on a terminal, plain log lines otherwise, a JSONL metrics log always."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from dlmkit.plugins import get_plugins
from dlmkit.storage.atomic import disk_refusals

console = Console(stderr=True)


def _fmt(metrics: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())


class StageProgress:
    """Reports one stage's steps; logs go to ``metrics.jsonl`` in the run folder and to ``on_log`` hooks.

    Only the main process reports (``active``); other ranks keep quiet.
    """

    def __init__(self, stage: str, total: int, log_path: Path, mode: str = "auto", start: int = 0, active: bool = True):
        self.active = active
        self.stage = stage
        self.total = total
        self.log_path = log_path
        self.use_bar = active and (mode == "on" or (mode == "auto" and console.is_terminal))
        self.start = start
        self._progress: Progress | None = None
        self._task: Any = None
        self._t0 = time.perf_counter()

    def __enter__(self) -> StageProgress:
        if self.use_bar:
            self._progress = Progress(
                TextColumn(f"[bold]{self.stage}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"),
                console=console,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.stage, total=self.total, completed=self.start, info="")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def advance(self, step: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=step)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        """Record scalars: JSONL line, observers, and the bar's caption or a plain line."""
        if not self.active:
            return
        record = {"stage": self.stage, "step": step, "time": round(time.perf_counter() - self._t0, 3), **metrics}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with disk_refusals(self.log_path), self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        get_plugins().notify("on_log", stage=self.stage, step=step, metrics=dict(metrics))
        if self._progress is not None:
            short = {
                k: v for k, v in metrics.items() if k in ("loss", "psi_loss", "generator_loss") or k.startswith("val_")
            }
            self._progress.update(self._task, info=_fmt(short))
        else:
            print(f"[{self.stage}] step {step}/{self.total} {_fmt(metrics)}", file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        if not self.active:
            return
        console.print(f"[{self.stage}] {text}", markup=False, highlight=False, soft_wrap=True)

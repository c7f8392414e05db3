"""A progress bar over generated sequences, on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from dlmkit.engine.progress import console


@contextlib.contextmanager
def sequence_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``; logs and pipes get no bar, only the summary lines the commands print."""
    if not console.is_terminal:
        yield lambda n: None
        return
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)

"""One process at a time per run folder: an OS file lock on ``RUN/.lock`` that dies with its holder.

Two runs writing into one folder would train on each other's checkpoints and interleave their logs
without an error.  ``fcntl.flock`` is released by the kernel when the holding process ends however it
ends, so a lock left by a killed run is never mistaken for a live one; the file only records who
holds it, for the message.  Under DDP only rank 0 takes it (every rank shares the folder by design).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from dlmkit.errors import UserError
from dlmkit.storage.run_layout import RunFolder

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, runs are not guarded
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = RunFolder(Path()).lock_file.name


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    try:
        info = json.loads(handle.read() or "{}")
    except ValueError:
        return "another process"
    return f"process {info.get('pid', '?')} on {info.get('host', '?')} (since {info.get('started', '?')})"


@contextlib.contextmanager
def hold_run_folder(run_dir: Path) -> Iterator[None]:
    """Hold ``run_dir`` for this run; a second holder fails at once with exit 2 naming the first."""
    if fcntl is None or int(os.environ.get("RANK", "0")) != 0:
        yield
        return
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        handle = open(RunFolder(run_dir).lock_file, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole run
    except OSError as exc:
        raise UserError(f"cannot use the run folder {run_dir}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                f"{run_dir} is in use by {_holder(handle)}; wait for that run to end, or choose another --output-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": started}))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock; the file stays (removing it would race a waiting run)

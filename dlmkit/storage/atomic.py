"""Atomic writes: write elsewhere in the same folder, then rename, so a crash never leaves half a file."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _as_plain_open_would(path: Path) -> None:
    """Give ``path`` (and what a folder holds) the permissions a plain open() or mkdir() would.

    mkstemp and mkdtemp make 0600 and 0700, and writers that create their own file (safetensors
    does) keep 0600: a checkpoint or a shipped teacher would be readable by its owner only.
    """
    mask = os.umask(0)
    os.umask(mask)
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.chmod(item, (0o777 if item.is_dir() else 0o666) & ~mask)


#: What writers that are not Python's own (torch.save, safetensors) say when the disk refuses a write.
_REFUSED_WRITE = ("no space left", "storagefull", "os error 28", "file write failed", "disk quota")


def library_refused_write(exc: BaseException) -> bool:
    """Whether ``exc`` is a library writer's report of a full disk (not itself an ``OSError``).

    torch and safetensors report ENOSPC as a ``RuntimeError`` (or their own error) whose text carries
    the OS message.
    """
    return not isinstance(exc, OSError) and any(mark in str(exc).lower() for mark in _REFUSED_WRITE)


def refused_write(exc: BaseException, path: Path) -> OSError | None:
    """``exc`` as the ``OSError`` it stands for when a library writer hit a full disk, else ``None``: as an
    ``OSError`` the command line names the file and exits 2, and the atomic write has left the previous file
    (or checkpoint) whole."""
    if not library_refused_write(exc):
        return None
    return OSError(errno.ENOSPC, "no space left on device (the previous file is kept whole)", str(path))


@contextlib.contextmanager
def disk_refusals(path: Path) -> Iterator[None]:
    """Inside, a library writer's full-disk error leaves as ``refused_write``'s ``OSError``, and an OS error
    without a file name (a failed ``write()`` carries none) gets ``path``'s."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None or exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    except Exception as exc:
        refused = refused_write(exc, path)
        if refused is None:
            raise
        raise refused from exc


def write_file_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with disk_refusals(path):
            write(tmp)
        _as_plain_open_would(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: Path, text: str) -> None:
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    write_file_atomic(path, write)


@contextlib.contextmanager
def atomic_directory(path: Path) -> Iterator[Path]:
    """Fill a temporary folder; on success it replaces ``path`` in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        with disk_refusals(path):
            yield tmp
        _as_plain_open_would(tmp)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)

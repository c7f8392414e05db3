"""What a run may do to its folder: start only in a new or empty one, and resume only the same recipe.

A folder that already holds a run (even one killed before its first stage finished) is refused
without ``--resume``, so old and new checkpoints are never mixed; a folder that holds other files is
refused, so a run never overwrites someone's ``vocab.txt`` or ``results.json``.  ``--resume`` compares
the recipe with the one the run started with (``resolved.toml``) and refuses any change but the keys
that only say how long to run and how often to log, validate and save.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dlmkit.errors import UserError
from dlmkit.storage.run_layout import RunFolder

#: Files and folders whose presence means a run used this folder.
RUN_MARKERS = ("resolved.toml", "run_state.json", "metrics.jsonl")

#: Keys a resumed run may change: how long to run, how often to log, validate and save, where and how fast.
RESUMABLE = frozenset(
    {"steps", "max_minutes", "log_every", "eval_every", "eval_samples", "ckpt_every", "eval_batches", "val_also"}
)
RESUMABLE_TABLES = ("runtime", "eval")
#: Where the data lives may change (a run moved to another machine); what the data is may not.
RESUMABLE_PATHS = frozenset({"data.root"})


def holds_run(folder: Path) -> bool:
    return any((folder / marker).exists() for marker in RUN_MARKERS)


def check_new_run(folder: Path) -> None:
    """A run without ``--resume`` starts only in a folder that does not exist yet or is empty."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise UserError(f"{folder}: exists and is not a folder; choose another --output-dir")
    if holds_run(folder):
        raise UserError(f"{folder} already holds a run; pass --resume to continue it, or choose another --output-dir")
    lock = RunFolder(folder).lock_file.name  # the run's own lock, taken before this check
    entries = sorted(p.name for p in folder.iterdir() if p.name != lock)
    if entries:
        shown = ", ".join(entries[:5]) + (" ..." if len(entries) > 5 else "")
        raise UserError(
            f"{folder} is not empty and holds no run ({shown}); a run writes vocab.txt, results.json and outputs/ "
            "there, so choose a new or empty --output-dir"
        )


def check_no_links_out(folder: Path) -> None:
    """Refuse a run folder holding a symbolic link that leads outside it: the run would write through it
    (its lock, checkpoints, outputs or vocabulary) into a file it does not own."""
    if not folder.is_dir():
        return
    root = folder.resolve()
    for where, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            path = Path(where) / name
            if path.is_symlink():
                try:
                    target = path.resolve()
                except (OSError, RuntimeError):  # a loop of links
                    raise UserError(f"{path} is a link that leads nowhere (a loop); remove it") from None
                if target != root and root not in target.parents:
                    raise UserError(
                        f"{path} is a link to {target}, outside the run folder; a run writes only inside its "
                        "folder, so remove the link (or copy the file in)"
                    )


def _flat(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from _flat(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list) and data and all(isinstance(x, Mapping) and "name" in x for x in data):
        for item in data:
            yield from _flat(item, f"{prefix}.{item['name']}")
    else:
        yield prefix, data


def _may_change(key: str) -> bool:
    return key in RESUMABLE_PATHS or key.split(".", 1)[0] in RESUMABLE_TABLES or key.rsplit(".", 1)[-1] in RESUMABLE


def changed_keys(started: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """The dotted keys whose values differ between two resolved recipes and may not change on resume."""
    old, new = dict(_flat(started)), dict(_flat(now))
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k) and not _may_change(k))


def check_resume(path: Path, started: Mapping[str, Any], now: Mapping[str, Any]) -> None:
    """Refuse ``--resume`` with a recipe that differs from the run's (``path``, read as ``started``) in anything
    but how long and how often."""
    keys = changed_keys(started, now)
    if keys:
        shown = ", ".join(keys[:6]) + (" ..." if len(keys) > 6 else "")
        raise UserError(
            f"--resume with a changed recipe: {shown} differ from {path}; a resumed run may change only "
            f"{', '.join(sorted(RESUMABLE))}, the [runtime] and [eval] tables and [data] root; start a new run for "
            "the rest"
        )

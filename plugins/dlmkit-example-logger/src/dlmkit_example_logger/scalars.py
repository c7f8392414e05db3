"""Appending scalars to a long-format CSV file: one ``step,metric,value`` row per number.

Long format because the set of metrics changes from line to line (training losses every
``log_every`` steps, validation scores every ``eval_every``): a wide table would have to be
rewritten whenever a new column appears, while long rows can always be appended, also by a
resumed run in a new process.  ``pandas.read_csv(path).pivot_table(index="step",
columns="metric", values="value")`` gives the wide table back.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

HEADER = ("step", "metric", "value")


def numeric_items(values: Mapping[str, Any]) -> Iterable[tuple[str, float]]:
    """``(name, value)`` for the real numbers in ``values`` (booleans, strings and nested data are skipped)."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        yield name, float(value)


def append_scalars(path: Path, step: int, values: Mapping[str, Any], prefix: str = "") -> int:
    """Append one row per numeric value (header first if the file is new); returns the rows written."""
    rows = [
        (step, prefix + name, repr(value) if math.isfinite(value) else str(value))
        for name, value in numeric_items(values)
    ]
    if not rows:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.is_file() or path.stat().st_size == 0
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(HEADER)
        writer.writerows(rows)
    return len(rows)

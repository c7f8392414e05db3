"""``instruments.png``: a run's distillation instruments against its steps, one panel each.

What a reader needs to tell a run that moves from one that stalls or runs away: the validation
metric, the teacher's error on the student's outputs, psi's advantage over the teacher on the
student's samples, the outputs' scale against the embedding table, the discriminator's accuracy, and
(with a regression term) the student's distance to its target from the same input.
Stages are drawn one after another on a shared step axis.  matplotlib's object API on the Agg
canvas, like the bench plot, so no global backend is touched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dlmkit.errors import UserError

#: (panel title, the logged keys drawn in it, log-scaled y axis)
PANELS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("validation metric", ("val_*",), False),
    ("teacher error on the student's outputs", ("val_teacher_error",), True),
    ("psi's advantage over the teacher (relative)", ("g_psi_advantage_rel",), False),
    ("output scale / embedding table", ("g_out_norm", "g_out_norm_max", "g_out_beyond"), False),
    ("discriminator accuracy", ("psi_disc_acc_real", "psi_disc_acc_fake"), False),
    ("the regression target: distance, and tokens matched", ("g_regression", "g_regression_token_match"), False),
)

#: ``val_*`` keys that are readings of their own panel or bookkeeping, not the validation metric.
NOT_METRICS = ("val_teacher_error", "val_teacher_error_ratio", "val_keepable")


def read_log(path: Path) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl``; a damaged line is a named error."""
    if not path.is_file():
        raise UserError(f"{path}: no such file; plot a run folder that has logged at least one step")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}, line {number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or "stage" not in record or "step" not in record:
            raise UserError(f"{path}, line {number}: expected an object with 'stage' and 'step'")
        records.append(record)
    return records


def metric_keys(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The validation metrics logged (``val_NAME`` without ``best_`` and the teacher-error readings)."""
    keys: dict[str, None] = {}
    for record in records:
        for key in record:
            if key.startswith("val_") and key not in NOT_METRICS:
                keys[key] = None
    return list(keys)


def series(records: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """``(x, y)`` of ``key`` on the shared step axis: each stage starts where the previous one ended."""
    offset, last_stage, last_step = 0, None, 0
    xs: list[float] = []
    ys: list[float] = []
    for record in records:
        if record["stage"] != last_stage:
            offset += last_step if last_stage is not None else 0
            last_stage, last_step = record["stage"], 0
        last_step = max(last_step, int(record["step"]))
        value = record.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            xs.append(offset + int(record["step"]))
            ys.append(float(value))
    return xs, ys


def stage_starts(records: list[dict[str, Any]]) -> list[tuple[float, str]]:
    """Where each stage begins on the shared step axis, with its name."""
    starts, offset, last_stage, last_step = [], 0, None, 0
    for record in records:
        if record["stage"] != last_stage:
            offset += last_step if last_stage is not None else 0
            starts.append((float(offset), str(record["stage"])))
            last_stage, last_step = record["stage"], 0
        last_step = max(last_step, int(record["step"]))
    return starts


def plot_run(metrics_file: Path, out: Path) -> Path:
    """Draw every panel that has data; an empty log is a named error."""
    records = read_log(metrics_file)
    if not records:
        raise UserError(f"{metrics_file}: no records yet")
    panels = []
    for title, keys, log in PANELS:
        wanted = metric_keys(records) if keys == ("val_*",) else list(keys)
        drawn = [(k, *series(records, k)) for k in wanted]
        drawn = [d for d in drawn if d[1]]
        if drawn:
            panels.append((title, drawn, log))
    if not panels:
        raise UserError(f"{metrics_file}: none of the instruments were logged ({', '.join(p[0] for p in PANELS)})")
    figure = Figure(figsize=(9.0, 2.2 * len(panels)), layout="constrained")
    FigureCanvasAgg(figure)
    axes_list = figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for axes, (title, drawn, log) in zip(axes_list, panels, strict=True):
        for key, xs, ys in drawn:
            axes.plot(xs, ys, marker="o" if len(xs) < 40 else None, markersize=3, label=key)
        if log and all(y > 0 for _, _, ys in drawn for y in ys):
            axes.set_yscale("log")
        for x, name in stage_starts(records):
            axes.axvline(x, color="0.8", linewidth=0.8)
            axes.annotate(name, (x, 1.0), xycoords=("data", "axes fraction"), fontsize=7, va="top", color="0.4")
        axes.set_title(title, fontsize=9, loc="left")
        axes.legend(fontsize=7, loc="best")
        axes.grid(alpha=0.3)
    axes_list[-1].set_xlabel("step (stages one after another)")
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    return out

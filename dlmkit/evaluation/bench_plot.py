"""``bench.png``: a score against NFE on a log axis, the picture of DLM-One's Fig. 3.

Built on matplotlib's object API with the Agg canvas, so it never touches pyplot's global
backend (safe on a headless server and inside other programs' processes).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dlmkit.evaluation.bench_compare import CONTROL_SAMPLER, headline_metric

STUDENT_MARKERS = ("*", "D", "s", "^", "v", "P", "X")


def _spread(point: Mapping[str, Any], metric: str) -> float:
    """The standard deviation over seeds, drawn as an error bar; 0 with one seed."""
    value = point.get("metrics_sd", {}).get(metric)
    return float(value) if value is not None else 0.0


def plot_bench(summary: Mapping[str, Any], path: Path, metric: str | None = None) -> Path:
    """One line per teacher sampler, one marker per student step count, the copy-source line dashed.

    With several seeds every point is the mean, with a bar of one standard deviation over seeds.
    """
    metric = metric or headline_metric(summary)
    figure = Figure(figsize=(10.0, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_xscale("log")
    teacher: dict[str, list[tuple[int, float, float]]] = {}
    for point in summary["points"]:
        if point["model"] == "teacher":
            entry = (point["nfe"], point["metrics"][metric], _spread(point, metric))
            teacher.setdefault(point["sampler"], []).append(entry)
    colors: dict[str, Any] = {}
    for name, values in teacher.items():
        values.sort()
        line = axes.errorbar(
            [v[0] for v in values],
            [v[1] for v in values],
            yerr=[v[2] for v in values],
            marker="o",
            markersize=4,
            capsize=2,
            label=f"teacher {name}" + (" (the student before distillation)" if name == CONTROL_SAMPLER else ""),
        )
        colors[name] = line.lines[0].get_color()
    students = [p for p in summary["points"] if p["model"] == "student"]
    for index, point in enumerate(sorted(students, key=lambda p: p["nfe"])):
        axes.errorbar(
            [point["nfe"]],
            [point["metrics"][metric]],
            yerr=[_spread(point, metric)],
            capsize=3,
            linestyle="none",
            marker=STUDENT_MARKERS[index % len(STUDENT_MARKERS)],
            markersize=11,
            color="black",
            label=f"student {point['steps']} step{'s' if point['steps'] != 1 else ''} ({point['sampler']})",
        )
    ref = summary["reference"]
    if not ref["in_ladder"] and metric in ref.get("metrics", {}):
        axes.plot(
            [ref["nfe"]],
            [ref["metrics"][metric]],
            linestyle="none",
            marker="o",
            markersize=9,
            markerfacecolor="none",
            color=colors.get(ref["sampler"], "black"),
            label=f"teacher {ref['sampler']} {ref['steps']} (first {ref['sequences']} only)",
        )
    baseline = float(summary["baseline"]["metrics"][metric])
    low, high = axes.get_ylim()
    if baseline > high + (high - low):
        # far above every model: drawing it would squeeze the curves into a strip, so it is named instead
        axes.plot([], [], linestyle="--", color="gray", label=f"copy source ({baseline:.4f}, above the axis)")
    else:
        axes.axhline(baseline, linestyle="--", color="gray", label="copy source")
    axes.set_xlabel("NFE (network evaluations per sequence, log scale)")
    axes.set_ylabel(metric)
    config = summary["config"]
    axes.set_title(f"{metric} against NFE, {config['split']} split, {config['sequences']} sequences")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return path

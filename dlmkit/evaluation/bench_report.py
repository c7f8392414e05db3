"""``bench.md``: the bench summary as one Markdown table with what it was measured on and how."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dlmkit.evaluation.bench_compare import CONTROL_SAMPLER, describe, headline_metric, student_vs_teacher

DASH = "-"


def _num(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, int | float) else DASH


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _scores(
    values: Mapping[str, float], metrics: Sequence[str], spread: Mapping[str, float] | None = None
) -> list[str]:
    """Each score, as ``mean ± sd`` over seeds when the point ran with several."""
    cells = []
    for name in metrics:
        cell = _num(values.get(name), ".4f")
        if spread is not None and isinstance(spread.get(name), int | float):
            cell += f" ± {spread[name]:.4f}"
        cells.append(cell)
    return cells


def speedup_text(value: float) -> str:
    """``523x``, ``14.2x``, ``1.05x``: whole numbers from 100 up, three significant digits below."""
    return f"{value:.0f}x" if value >= 100 else f"{value:.3g}x"


def _timing(entry: Mapping[str, Any], speedup: Any) -> list[str]:
    return [
        _num(entry.get("seconds_per_seq"), ".4g"),
        _num(entry.get("seqs_per_s"), ".4g"),
        speedup_text(speedup) if isinstance(speedup, int | float) else DASH,
    ]


CONTROL_NOTE = (
    " teacher one_step: the teacher's one-step prediction at the student's t_init, i.e. the student before "
    "distillation (a control: the student minus this row is what distillation added)."
)


def _is_control(point: Mapping[str, Any]) -> bool:
    return bool(point["model"] == "teacher" and point["sampler"] == CONTROL_SAMPLER)


def _seeds_text(seeds: Sequence[int]) -> str:
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    listed = ", ".join(str(s) for s in seeds)
    return f"seeds {listed} (scores: mean ± sample standard deviation over the {len(seeds)} seeds; time over all)"


def render_markdown(summary: Mapping[str, Any]) -> str:
    """A table (one row per point, the reference and the copy-source baseline) plus the conditions."""
    config = summary["config"]
    env = summary["environment"]
    ref = summary["reference"]
    source = summary.get("source", {})
    metrics = list(config["metrics"])
    title = source.get("recipe") or source.get("path") or "bench"
    lines = [f"# dlmkit bench: {title}", ""]
    if source:
        lines.append(f"- source: {source.get('kind', '')} `{source.get('path', '')}`")
    lines += [
        f"- data: {config['split']} split, first {config['sequences']} sequences, batch size {config['batch_size']}, "
        f"{_seeds_text(config['seeds'])}",
        f"- machine: {env['device_name']} ({env['device']}), {env['threads']} CPU threads, torch {env['torch']}, "
        f"dlmkit {env['dlmkit']}, {env['date']}",
        f"- speed-up reference: teacher {ref['sampler']} at {ref['steps']} steps, {ref['seconds_per_seq']:.4g} s per "
        f"sequence ({ref['how']})",
        "",
    ]
    header = ["model", "sampler", "steps", "NFE", *metrics, "s/seq", "seq/s", "speed-up"]
    lines += [_row(header), _row(["---"] * 2 + ["---:"] * (len(header) - 2))]
    for point in summary["points"]:
        cells = [point["model"], point["sampler"], str(point["steps"]), str(point["nfe"])]
        scores = _scores(point["metrics"], metrics, point.get("metrics_sd"))
        lines.append(_row(cells + scores + _timing(point, point["speedup"])))
    if not ref["in_ladder"]:
        cells = [f"teacher (first {ref['sequences']})", ref["sampler"], str(ref["steps"]), str(ref["nfe"])]
        lines.append(_row(cells + _scores(ref.get("metrics", {}), metrics) + _timing(ref, 1.0)))
    baseline = summary["baseline"]
    lines.append(_row(["copy source", DASH, DASH, "0", *_scores(baseline["metrics"], metrics), DASH, DASH, DASH]))
    lines += [
        "",
        "NFE: network evaluations per sequence. s/seq: seconds per sequence; seq/s: sequences per second; speed-up: "
        "the reference's s/seq over the row's. copy source: the condition itself scored as the output."
        + (CONTROL_NOTE if any(_is_control(p) for p in summary["points"]) else ""),
        "",
        f"Timing: {summary['timing']}.",
    ]
    comparisons = student_vs_teacher(summary, headline_metric(summary))
    if comparisons and any(e["curves"] for e in comparisons):
        lines += ["", "Student against the teacher's curves (means over seeds):", ""]
        lines += [describe(entry) for entry in comparisons]
    skipped = summary.get("skipped", [])
    if skipped:
        lines += ["", "Skipped:", ""]
        lines += [f"- {s['model']} {s['sampler']} {s['steps']} steps: {s['reason']}" for s in skipped]
    return "\n".join(lines) + "\n"

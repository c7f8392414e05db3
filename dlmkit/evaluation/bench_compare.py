"""Where each student point lies against the teacher's curves: the fewest teacher steps that match it.

This is the sentence a reader wants from a bench: "the one-step student is as good as the teacher's
DDIM at 10 steps and below its ancestral sampler from 20 steps on".  It is computed from the
summary's means, so with several seeds it compares mean to mean and keeps the spreads beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dlmkit.inference.sampler_choice import STUDENT_ONE_STEP

CONTROL_SAMPLER = STUDENT_ONE_STEP
"""A teacher point with the student's own sampler is the student before distillation: the control."""


def headline_metric(summary: Mapping[str, Any]) -> str:
    """BLEU when it was measured, else the first metric: what the plot draws and the comparison uses."""
    metrics = list(summary["config"]["metrics"])
    return "bleu" if "bleu" in metrics else metrics[0]


def _score(point: Mapping[str, Any], metric: str) -> tuple[float, float | None]:
    return float(point["metrics"][metric]), point.get("metrics_sd", {}).get(metric)


def student_vs_teacher(summary: Mapping[str, Any], metric: str) -> list[dict[str, Any]]:
    """For every student point and teacher sampler: the fewest steps whose mean score reaches the student's
    (``None`` when no step of the ladder does), the sampler's best point, the full-chain reference, and
    the control (the teacher sampled as the student is), from which distillation's own gain is read."""
    teacher: dict[str, list[Mapping[str, Any]]] = {}
    control = None
    for point in summary["points"]:
        if point["model"] != "teacher" or metric not in point["metrics"]:
            continue
        if point["sampler"] == CONTROL_SAMPLER:
            control = point
        else:
            teacher.setdefault(point["sampler"], []).append(point)
    reference = summary.get("reference", {})
    ref_score = reference.get("metrics", {}).get(metric) if not reference.get("in_ladder", True) else None
    found = []
    for point in summary["points"]:
        if point["model"] != "student" or metric not in point["metrics"]:
            continue
        mean, sd = _score(point, metric)
        curves = []
        for name, points in teacher.items():
            ordered = sorted(points, key=lambda p: p["steps"])
            reached = next((p for p in ordered if _score(p, metric)[0] >= mean), None)
            best = max(ordered, key=lambda p: _score(p, metric)[0])
            curves.append(
                {
                    "sampler": name,
                    "matched_at_steps": reached["steps"] if reached is not None else None,
                    "matched_score": _score(reached, metric)[0] if reached is not None else None,
                    "best_steps": best["steps"],
                    "best_score": _score(best, metric)[0],
                    "best_sd": _score(best, metric)[1],
                    "steps_tried": [p["steps"] for p in ordered],
                }
            )
        entry: dict[str, Any] = {
            "metric": metric,
            "sampler": point["sampler"],
            "steps": point["steps"],
            "score": mean,
            "sd": sd,
            "curves": curves,
        }
        if ref_score is not None:
            entry["reference"] = {"steps": reference["steps"], "score": float(ref_score)}
        if control is not None:
            start, start_sd = _score(control, metric)
            entry["control"] = {"score": start, "sd": start_sd, "gain": mean - start}
        found.append(entry)
    return found


def _with_sd(value: float, sd: float | None) -> str:
    return f"{value:.4f}" if sd is None else f"{value:.4f} ± {sd:.4f}"


def describe(entry: Mapping[str, Any]) -> str:
    """One Markdown bullet: the student point, each teacher curve, the full-chain reference, the control."""
    steps = entry["steps"]
    head = f"student {entry['sampler']} ({steps} step{'s' if steps != 1 else ''}): {entry['metric']} " + _with_sd(
        entry["score"], entry["sd"]
    )
    parts = []
    for curve in entry["curves"]:
        tried = curve["steps_tried"]
        span = f"{tried[0]}-{tried[-1]}" if len(tried) > 1 else str(tried[0])
        best = f"best {_with_sd(curve['best_score'], curve['best_sd'])} at {curve['best_steps']}"
        if curve["matched_at_steps"] is None:
            parts.append(f"teacher {curve['sampler']} stays below it at {span} steps ({best})")
        else:
            parts.append(
                f"teacher {curve['sampler']} reaches it at {curve['matched_at_steps']} steps "
                f"({curve['matched_score']:.4f}; {best})"
            )
    text = f"- {head}. " + "; ".join(parts) + ("." if parts else "")
    if "reference" in entry:
        ref = entry["reference"]
        side = "above" if entry["score"] > ref["score"] else "below"
        text += f" It is {side} the {ref['steps']}-step reference ({ref['score']:.4f})."
    if "control" in entry:
        control = entry["control"]
        text += (
            f" Against where distillation started (the teacher's one-step prediction at the same t_init, "
            f"{_with_sd(control['score'], control['sd'])}): {control['gain']:+.4f}."
        )
    return text

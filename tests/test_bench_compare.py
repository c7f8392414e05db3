"""Where a student point lies against the teacher's curves, from a bench summary."""

from __future__ import annotations

from typing import Any

import pytest

from dlmkit.evaluation.bench_compare import describe, headline_metric, student_vs_teacher


def point(model: str, sampler: str, steps: int, bleu: float, sd: float | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "model": model,
        "sampler": sampler,
        "steps": steps,
        "nfe": steps,
        "metrics": {"bleu": bleu},
    }
    if sd is not None:
        entry["metrics_sd"] = {"bleu": sd}
    return entry


SUMMARY: dict[str, Any] = {
    "config": {"metrics": ["rouge_l", "bleu"]},
    "points": [
        point("teacher", "ancestral", 10, 0.07),
        point("teacher", "ancestral", 2, 0.03),
        point("teacher", "ancestral", 5, 0.06),
        point("teacher", "ddim", 2, 0.01),
        point("teacher", "ddim", 5, 0.02, 0.001),
        point("teacher", "one_step", 1, 0.045),
        point("student", "one_step", 1, 0.05, 0.002),
        point("student", "student_multistep", 2, 0.08),
    ],
    "reference": {"in_ladder": False, "steps": 2000, "metrics": {"bleu": 0.04}},
}


def test_the_fewest_teacher_steps_that_reach_the_student_and_the_best_point() -> None:
    one, two = student_vs_teacher(SUMMARY, "bleu")
    curves = {c["sampler"]: c for c in one["curves"]}
    assert (one["steps"], one["score"], one["sd"]) == (1, 0.05, 0.002)
    assert curves["ancestral"]["matched_at_steps"] == 5 and curves["ancestral"]["matched_score"] == 0.06
    assert curves["ancestral"]["best_steps"] == 10 and curves["ancestral"]["steps_tried"] == [2, 5, 10]
    assert curves["ddim"]["matched_at_steps"] is None and curves["ddim"]["best_score"] == 0.02
    assert one["reference"] == {"steps": 2000, "score": 0.04}
    # the teacher sampled as the student is the control, not a curve: distillation's own gain
    assert set(curves) == {"ancestral", "ddim"}
    assert one["control"]["score"] == 0.045 and one["control"]["gain"] == pytest.approx(0.005)
    # a student above every teacher point is matched nowhere
    assert all(c["matched_at_steps"] is None for c in two["curves"])


def test_the_sentence_says_which_side_of_each_curve_the_student_is_on() -> None:
    one, two = (describe(entry) for entry in student_vs_teacher(SUMMARY, "bleu"))
    assert one.startswith("- student one_step (1 step): bleu 0.0500 ± 0.0020.")
    assert "teacher ancestral reaches it at 5 steps (0.0600; best 0.0700 at 10)" in one
    assert "teacher ddim stays below it at 2-5 steps (best 0.0200 ± 0.0010 at 5)" in one
    assert "It is above the 2000-step reference (0.0400)." in one
    assert one.endswith("(the teacher's one-step prediction at the same t_init, 0.0450): +0.0050.")
    assert "student student_multistep (2 steps)" in two and "reaches" not in two


def test_bleu_is_the_headline_when_measured() -> None:
    assert headline_metric(SUMMARY) == "bleu"
    assert headline_metric({"config": {"metrics": ["dist1", "rouge_l"]}}) == "dist1"

"""The end of a run: the student (and, if asked, the teacher) on the evaluation split, side by side."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from dlmkit.engine.atomic import write_text_atomic
from dlmkit.engine.components import build_named, registered_metrics
from dlmkit.engine.context import RunContext
from dlmkit.engine.generation import degeneration, generate, score
from dlmkit.engine.teacher_files import load_teacher
from dlmkit.evaluation.output_files import OutputRow, write_output_file
from dlmkit.interfaces import Denoiser, Metric, Sampler


def _final_student(ctx: RunContext) -> Denoiser | None:
    for stage in reversed(ctx.recipe.stages):
        result = ctx.results.get(stage.name)
        if result is not None and result.student is not None:
            return load_teacher(result.student).to(ctx.runtime.device)
    return None


def _row(
    ctx: RunContext, name: str, model: Denoiser, sampler: Sampler, metrics: Mapping[str, Metric]
) -> dict[str, Any]:
    spec = ctx.recipe.eval
    assert spec is not None
    data = ctx.dataset.split(spec.split)
    if spec.num_samples is not None:
        data = data.slice(0, spec.num_samples)
    out = generate(model, sampler, ctx.schedule, ctx.dataset, data, spec.batch_size, spec.seed, ctx.runtime.device)
    (ctx.run_dir / "outputs").mkdir(parents=True, exist_ok=True)
    write_output_file(ctx.run_dir / "outputs" / f"{name}.jsonl", [OutputRow(**r) for r in out.rows])
    tok = ctx.dataset.tokenizer
    row: dict[str, Any] = score(out.rows, metrics)
    row.update(degeneration(out.ids, data.input_mask, tok.pad_id, {tok.pad_id, tok.cls_id, tok.sep_id}))
    row["nfe"] = sampler.nfe()
    row["sequences"] = len(out.rows)
    row["seconds_per_seq"] = out.seconds / max(1, len(out.rows))
    return row


def evaluate_run(ctx: RunContext) -> dict[str, Any]:
    """Score the final student (and the teacher when ``[eval] teacher_sampler`` is set); write results.json."""
    spec = ctx.recipe.eval
    assert spec is not None
    metrics = registered_metrics(spec.metrics)
    results: dict[str, Any] = {}
    student = _final_student(ctx)
    if student is not None:
        results["student"] = _row(ctx, "student", student, ctx.sampler, metrics)
    if spec.teacher_sampler is not None and ctx.teacher is not None:
        values = {"steps": spec.teacher_steps} if spec.teacher_steps is not None else {}
        sampler = build_named("sampler", spec.teacher_sampler, **values)
        results["teacher"] = _row(ctx, "teacher", ctx.teacher, sampler, metrics)
    if "student" in results and "teacher" in results:
        results["student"]["speedup"] = results["teacher"]["seconds_per_seq"] / max(
            1e-12, results["student"]["seconds_per_seq"]
        )
    write_text_atomic(ctx.run_dir / "results.json", json.dumps(results, indent=2))
    show(results)
    return results


def show(results: dict[str, Any]) -> None:
    """One row per metric, one column per model: readable in a narrow terminal."""
    if not results:
        return
    metrics = sorted({k for row in results.values() for k in row})
    table = Table(title="results")
    table.add_column("metric")
    for model in results:
        table.add_column(model, justify="right")
    for metric in metrics:
        cells = [results[m].get(metric) for m in results]
        table.add_row(metric, *(f"{c:.4g}" if isinstance(c, float) else ("" if c is None else str(c)) for c in cells))
    Console().print(table)

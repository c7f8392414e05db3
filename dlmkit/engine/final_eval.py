"""The end of a run: the student and the teacher on the evaluation split, side by side.

Quality is one sample per source (seed ``seed``), with its mean over the ``seeds`` draws beside it
(``NAME_mean``, and ``bleu_mean_vs_teacher``); diversity metrics use ``seeds`` samples per source.
The speed-up is measured in the same run on the same machine, both models timed on the same
``timing_batch`` sources, rounding and detokenisation included.  Slow teacher outputs may be
precomputed (``teacher_outputs``); the teacher is still re-timed here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from dlmkit.engine.context import RunContext
from dlmkit.errors import UserError
from dlmkit.evaluation.output_files import OutputRow, read_output_file, write_output_file
from dlmkit.inference.generation import degeneration, generate, score, special_ids
from dlmkit.inference.metric_set import registered_metrics
from dlmkit.interfaces import Batch, Denoiser, Sampler
from dlmkit.interfaces.stage import STUDENT_ARTIFACT
from dlmkit.plugins import build, make_params
from dlmkit.storage.atomic import write_text_atomic
from dlmkit.storage.teacher_files import load_teacher


def _final_student(ctx: RunContext) -> Denoiser | None:
    for stage in reversed(ctx.recipe.stages):
        result = ctx.results.get(stage.name)
        if result is not None and STUDENT_ARTIFACT in result.artifacts:
            return load_teacher(result.artifacts[STUDENT_ARTIFACT]).to(ctx.runtime.device)
    return None


def _initial_student(ctx: RunContext) -> Denoiser:
    """What the first distill stage starts its student from: a named teacher file, else the teacher."""
    for stage in ctx.recipe.stages:
        start = getattr(stage.params, "student_from", None)
        if hasattr(stage.params, "objective"):
            return load_teacher(Path(start)).to(ctx.runtime.device) if start else _require(ctx.teacher)
    return _require(ctx.teacher)


def _require(teacher: Denoiser | None) -> Denoiser:
    if teacher is None:
        raise UserError("[eval] initial_student needs a teacher")
    return teacher


class FinalEvaluation:
    """Scores, times and writes the final comparison of a run."""

    def __init__(self, ctx: RunContext):
        if ctx.recipe.eval is None:
            raise ValueError("the recipe has no [eval] table")
        self.ctx = ctx
        self.spec = ctx.recipe.eval
        self.metrics = registered_metrics(self.spec.metrics)
        data = ctx.dataset.split(self.spec.split)
        self.full = data
        self.subset = data.slice(0, self.spec.num_samples) if self.spec.num_samples is not None else data
        self.outputs = ctx.run_dir / "outputs"
        self.outputs.mkdir(parents=True, exist_ok=True)

    def sample(
        self, name: str, model: Denoiser, sampler: Sampler, data: Batch
    ) -> tuple[list[list[dict[str, str]]], float]:
        """Outputs for every seed, written as DiffuSeq files; seconds per sequence of the first seed."""
        seed_rows: list[list[dict[str, str]]] = []
        seconds = 0.0
        for k in range(self.spec.seeds):
            seed = self.spec.seed + k
            out = generate(
                model,
                sampler,
                self.ctx.schedule,
                self.ctx.dataset,
                data,
                self.spec.batch_size,
                seed,
                self.ctx.runtime.device,
            )
            write_output_file(self.outputs / f"{name}_seed{seed}.jsonl", [OutputRow(**r) for r in out.rows])
            seed_rows.append(out.rows)
            if k == 0:
                seconds = out.seconds / max(1, len(out.rows))
                tok = self.ctx.dataset.tokenizer
                self.signals = degeneration(out.ids, data.input_mask, tok.pad_id, special_ids(tok))
        return seed_rows, seconds

    def time_per_sequence(self, model: Denoiser, sampler: Sampler) -> float:
        """Seconds per sequence on ``timing_batch`` sources, after an untimed warm-up network call."""
        batch = self.subset.slice(0, self.spec.timing_batch)
        device = self.ctx.runtime.device
        with torch.no_grad():  # warm the kernels for these shapes without running a whole 2000-step chain
            part = batch.to(device)
            model.denoise(model.embed(part.input_ids), torch.zeros(len(part), dtype=torch.long, device=device))
        out = generate(model, sampler, self.ctx.schedule, self.ctx.dataset, batch, len(batch), 0, device)
        return out.seconds / max(1, len(batch))

    def row(self, name: str, model: Denoiser, sampler: Sampler, data: Batch) -> dict[str, Any]:
        seed_rows, seconds = self.sample(name, model, sampler, data)
        row: dict[str, Any] = score(seed_rows[0], self.metrics, *seed_rows[1:])
        row.update(self.signals)
        row.update({"nfe": sampler.nfe(), "sequences": len(seed_rows[0]), "seconds_per_seq_batched": seconds})
        return row

    def teacher_from_files(self, paths: list[str]) -> dict[str, Any]:
        """Teacher quality from precomputed output files, checked to be for the same sources."""
        expected = [r["source"] for r in _decoded_sources(self.ctx, self.subset)]
        seed_rows = []
        for path in sorted(paths):
            rows = read_output_file(path)[: len(expected)]
            if [r.source for r in rows] != expected:
                raise UserError(
                    f"{path}: [eval] teacher_outputs must hold the first {len(expected)} sources of the "
                    f"{self.spec.split} split in order; regenerate it with `dlmkit sample`"
                )
            seed_rows.append([attrs_row(r) for r in rows])
        row: dict[str, Any] = score(seed_rows[0], self.metrics, *seed_rows[1:])
        row["sequences"] = len(seed_rows[0])
        row["outputs_from"] = [str(Path(p).name) for p in sorted(paths)]
        return row

    def run(self) -> dict[str, Any]:
        ctx, spec = self.ctx, self.spec
        results: dict[str, Any] = {}
        student = _final_student(ctx)
        student_sampler = ctx.sampler
        if student is not None:
            results["student"] = self.row("student", student, student_sampler, self.subset)
            results["student"]["seconds_per_seq"] = self.time_per_sequence(student, student_sampler)
        if spec.initial_student and ctx.teacher is not None:
            initial = _initial_student(ctx)
            results["student_initial"] = self.row("student_initial", initial, student_sampler, self.subset)
        if spec.teacher_sampler is not None and ctx.teacher is not None:
            values = {"steps": spec.teacher_steps} if spec.teacher_steps is not None else {}
            sampler = build("sampler", spec.teacher_sampler, make_params("sampler", spec.teacher_sampler, **values))
            if spec.teacher_outputs:
                results["teacher"] = self.teacher_from_files(spec.teacher_outputs)
            else:
                results["teacher"] = self.row("teacher", ctx.teacher, sampler, self.subset)
            if spec.teacher_unrounded:
                params = make_params("sampler", spec.teacher_sampler, rounding=False, **values)
                unrounded = build("sampler", spec.teacher_sampler, params)
                results["teacher_unrounded"] = self.row("teacher_unrounded", ctx.teacher, unrounded, self.subset)
            results["teacher"]["seconds_per_seq"] = self.time_per_sequence(ctx.teacher, sampler)
            results["teacher"]["nfe"] = sampler.nfe()  # after a run, so samplers whose count depends on T know it
        if "student" in results and "teacher" in results:
            results["student"]["speedup"] = results["teacher"]["seconds_per_seq"] / max(
                1e-12, results["student"]["seconds_per_seq"]
            )
            student_row, teacher_row = results["student"], results["teacher"]
            if "bleu" in student_row and teacher_row.get("bleu"):
                student_row["bleu_vs_teacher"] = student_row["bleu"] / teacher_row["bleu"]
                if "bleu_mean" in student_row:  # the first draw's ratio swings with the draw; the means' less
                    student_row["bleu_mean_vs_teacher"] = student_row["bleu_mean"] / teacher_row.get(
                        "bleu_mean", teacher_row["bleu"]
                    )
        if student is not None and spec.full_split and len(self.full) > len(self.subset):
            out = generate(
                student,
                student_sampler,
                ctx.schedule,
                ctx.dataset,
                self.full,
                spec.batch_size,
                spec.seed,
                ctx.runtime.device,
            )
            full = score(out.rows, self.metrics)
            seconds = out.seconds / max(1, len(out.rows))
            full.update({"nfe": student_sampler.nfe(), "sequences": len(out.rows), "seconds_per_seq_batched": seconds})
            results["student_full_split"] = full
        objectives = [s.params.objective.name for s in ctx.recipe.stages if hasattr(s.params, "objective")]
        if objectives:
            results["objective"] = objectives[-1]
        write_text_atomic(ctx.folder.results, json.dumps(results, indent=2))
        show(results)
        return results


def attrs_row(row: OutputRow) -> dict[str, str]:
    return {"recover": row.recover, "reference": row.reference, "source": row.source}


def _decoded_sources(ctx: RunContext, data: Batch) -> list[dict[str, str]]:
    from dlmkit.data.decoding import output_records

    return output_records(ctx.dataset.tokenizer, data.input_ids, data)


def evaluate_run(ctx: RunContext) -> dict[str, Any]:
    """Score the final student (and the teacher when ``[eval] teacher_sampler`` is set); write results.json."""
    return FinalEvaluation(ctx).run()


def show(results: dict[str, Any]) -> None:
    """One row per metric, one column per model: readable in a narrow terminal."""
    rows = {name: row for name, row in results.items() if isinstance(row, dict)}
    if not rows:
        return
    names = sorted({k for row in rows.values() for k, v in row.items() if isinstance(v, int | float)})
    title = f"results ({results['objective']})" if isinstance(results.get("objective"), str) else "results"
    table = Table(title=title)
    table.add_column("metric")
    for model in rows:
        table.add_column(model, justify="right")
    for metric in names:
        cells = [rows[m].get(metric) for m in rows]
        table.add_row(metric, *(f"{c:.4g}" if isinstance(c, float) else ("" if c is None else str(c)) for c in cells))
    Console().print(table)

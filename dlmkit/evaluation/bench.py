"""Quality against speed on one machine: teacher samplers over a ladder of steps, and the student.

Every point generates the same first ``limit`` sequences of a split with the same seed, batched
as a user would, and is timed by ``generate`` (sampling, rounding, moving ids to the CPU and
detokenisation; no model loading, no scoring).  Before any timing, each sampler runs once,
untimed, on one batch at its smallest step count, so one-off costs (CUDA kernels, allocator
growth, lazy imports) land in no point.  Speed-ups are over the teacher's full ancestral chain
(``T`` = 2000 steps for DiffuSeq), which is always timed in the same run: as a ladder point, or
on its own over the first batch when the ladder leaves it out (2000 steps over every sequence
would take longer than the rest of the bench together).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import attrs

from dlmkit.data.decoding import reference_texts, source_texts
from dlmkit.errors import UserError
from dlmkit.evaluation.bench_compare import headline_metric, student_vs_teacher
from dlmkit.evaluation.bench_config import BenchConfig
from dlmkit.evaluation.bench_plan import BenchModels, Planned, plan_points
from dlmkit.evaluation.bench_points import environment, mean_and_spread, output_stem
from dlmkit.inference.generation import Generated, degeneration, generate, score, special_ids
from dlmkit.inference.metric_set import registered_metrics
from dlmkit.inference.progress_sampler import ProgressSampler
from dlmkit.inference.sampler_choice import make_sampler
from dlmkit.interfaces import Batch, Denoiser, Metric, Sampler

REFERENCE_SAMPLER = "ancestral"
REFERENCE_KEYS = ("sampler", "steps", "nfe", "sequences", "seconds", "seconds_per_seq", "seqs_per_s")
TIMING = (
    "wall-clock seconds of dlmkit's generate(): sampling, rounding, ids to the CPU and detokenisation, batch by "
    "batch as a user would run it (CUDA synchronised at the end); model loading and scoring are not timed; every "
    "sampler first ran once untimed on one batch at its smallest step count"
)


@attrs.define
class BenchResult:
    """``summary`` is what bench.json holds; ``outputs`` the generated rows of each point by file stem."""

    summary: dict[str, Any]
    outputs: dict[str, list[dict[str, str]]]


class BenchReporter(Protocol):
    """Where progress goes: a context per point yielding ``advance(sequences)``, and one-line notes."""

    def point(self, label: str, total: int) -> contextlib.AbstractContextManager[Callable[[int], None]]: ...

    def note(self, text: str) -> None: ...


class SilentReporter:
    """Reports nothing (library use and tests)."""

    @contextlib.contextmanager
    def point(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        yield lambda n: None

    def note(self, text: str) -> None:
        return None


def check_metrics(names: Sequence[str]) -> dict[str, Metric]:
    """The metrics by name; diversity metrics need several samples per source, which a bench point lacks."""
    metrics = dict(registered_metrics(names))
    multi = [name for name, metric in metrics.items() if metric.needs_candidates]
    if multi:
        raise UserError(
            f"--metrics {', '.join(multi)}: these compare several samples per source, and a bench point makes one; "
            "run `dlmkit sample` with several seeds and `dlmkit eval` for them"
        )
    return metrics


def run_bench(models: BenchModels, config: BenchConfig, reporter: BenchReporter | None = None) -> BenchResult:
    """Measure every planned point, the ancestral reference and the copy-the-source baseline."""
    report = reporter if reporter is not None else SilentReporter()
    dataset = models.dataset
    if not dataset.has_split(config.split):
        raise UserError(f"the data has no {config.split!r} split; pass --split with one it has, or set [data]")
    data = dataset.split(config.split).slice(0, config.limit)
    if len(data) == 0:
        raise UserError(f"the {config.split!r} split is empty")
    metrics = check_metrics(config.metrics)
    points, skipped = plan_points(config, models)
    for entry in skipped:
        report.note(f"skipped {entry['model']} {entry['sampler']} {entry['steps']} steps: {entry['reason']}")
    total = models.schedule.num_timesteps
    in_ladder = any(p.model == "teacher" and p.name == REFERENCE_SAMPLER and p.steps == total for p in points)
    ref_count = len(data) if in_ladder else min(len(data), config.reference_limit or config.batch_size)

    _warm_up(models, config, points, data, ref_count, in_ladder, report)
    outputs: dict[str, list[dict[str, str]]] = {}
    rows: list[dict[str, Any]] = []
    for index, point in enumerate(points, start=1):
        model = models.teacher if point.model == "teacher" else models.student
        assert model is not None
        label = f"[{index}/{len(points)}] {point.label}"
        runs: list[tuple[int, Generated]] = []
        for seed in config.seeds:
            seed_label = label if len(config.seeds) == 1 else f"{label}, seed {seed}"
            runs.append((seed, _timed(models, model, point.sampler, data, config.batch_size, seed, report, seed_label)))
        row = _measure(point.model, point.name, point.steps, point.sampler.nfe(), runs, data, metrics, models)
        stems = [output_stem(point.stem, seed, config.seeds) for seed, _ in runs]
        row["outputs"] = [f"outputs/{stem}.json" for stem in stems]
        outputs.update({stem: out.rows for stem, (_, out) in zip(stems, runs, strict=True)})
        rows.append(row)
        report.note(_line(label, row))

    reference = _reference(models, config, rows, data, ref_count, in_ladder, metrics, report, outputs)
    for row in rows:
        row["speedup"] = reference["seconds_per_seq"] / max(row["seconds_per_seq"], 1e-12)
    baseline_rows = [
        {"recover": src, "reference": ref, "source": src}
        for src, ref in zip(
            source_texts(dataset.tokenizer, data), reference_texts(dataset.tokenizer, data), strict=True
        )
    ]
    summary = {
        "environment": environment(models.device),
        "config": {
            "split": config.split,
            "sequences": len(data),
            "batch_size": config.batch_size,
            "seeds": list(config.seeds),
            "metrics": list(metrics),
            "num_timesteps": total,
        },
        "timing": TIMING,
        "reference": reference,
        "points": rows,
        "baseline": {"name": "copy_source", "sequences": len(data), "metrics": score(baseline_rows, metrics)},
        "skipped": skipped,
    }
    summary["student_vs_teacher"] = student_vs_teacher(summary, headline_metric(summary))
    return BenchResult(summary, outputs)


def _timed(
    models: BenchModels,
    model: Denoiser,
    sampler: Sampler,
    data: Batch,
    batch_size: int,
    seed: int,
    report: BenchReporter,
    label: str,
) -> Generated:
    with report.point(label, len(data)) as advance:
        wrapped = ProgressSampler(sampler, advance)
        return generate(model, wrapped, models.schedule, models.dataset, data, batch_size, seed, models.device)


def _measure(
    model: str,
    sampler: str,
    steps: int,
    nfe: int,
    runs: Sequence[tuple[int, Generated]],
    data: Batch,
    metrics: dict[str, Metric],
    models: BenchModels,
) -> dict[str, Any]:
    """One point over its seeds: scores per seed, their mean and spread, and time over every sequence made."""
    tok = models.dataset.tokenizer
    specials = special_ids(tok)
    count = len(runs[0][1].rows)
    generated = count * len(runs)
    seconds = sum(out.seconds for _, out in runs)
    per_seed: list[dict[str, Any]] = [
        {
            "seed": seed,
            "seconds": out.seconds,
            "metrics": score(out.rows, metrics),
            "degeneration": degeneration(out.ids, data.slice(0, count).input_mask, tok.pad_id, specials),
        }
        for seed, out in runs
    ]
    summaries = {name: mean_and_spread([r["metrics"][name] for r in per_seed]) for name in per_seed[0]["metrics"]}
    row: dict[str, Any] = {
        "model": model,
        "sampler": sampler,
        "steps": steps,
        "nfe": nfe,
        "sequences": count,
        "seeds": [seed for seed, _ in runs],
        "seconds": seconds,
        "seconds_per_seq": max(seconds, 1e-12) / generated,
        "seqs_per_s": generated / max(seconds, 1e-12),
        "speedup": None,
        "metrics": {name: mean for name, (mean, _) in summaries.items()},
        "degeneration": {
            key: sum(r["degeneration"][key] for r in per_seed) / len(per_seed) for key in per_seed[0]["degeneration"]
        },
    }
    if len(runs) > 1:
        row["metrics_sd"] = {name: sd for name, (_, sd) in summaries.items()}
        row["per_seed"] = per_seed
    return row


def _line(label: str, row: dict[str, Any]) -> str:
    scores = " ".join(f"{k}={v:.4f}" for k, v in row["metrics"].items())
    return f"{label}: nfe={row['nfe']} {row['seconds_per_seq']:.4g} s/seq {scores}"


def _warm_up(
    models: BenchModels,
    config: BenchConfig,
    points: list[Planned],
    data: Batch,
    ref_count: int,
    in_ladder: bool,
    report: BenchReporter,
) -> None:
    """One untimed call per (model, sampler) at its smallest step count, on one batch of the timed shape."""
    cheapest: dict[tuple[str, str], Planned] = {}
    for point in points:
        key = (point.model, point.name)
        if key not in cheapest or point.steps < cheapest[key].steps:
            cheapest[key] = point
    calls = [(p, data.slice(0, config.batch_size), config.batch_size) for p in cheapest.values()]
    if not in_ladder and ("teacher", REFERENCE_SAMPLER) not in cheapest:
        smallest = Planned("teacher", make_sampler(REFERENCE_SAMPLER, min(2, models.schedule.num_timesteps)), 2)
        size = min(ref_count, config.batch_size)
        calls.append((smallest, data.slice(0, size), size))
    for point, part, size in calls:
        model = models.teacher if point.model == "teacher" else models.student
        assert model is not None
        label = f"warm-up {point.label}"
        _timed(models, model, point.sampler, part, size, config.seeds[0], report, label)
    report.note(f"warmed up {len(calls)} sampler(s), untimed")


def _reference(
    models: BenchModels,
    config: BenchConfig,
    rows: list[dict[str, Any]],
    data: Batch,
    ref_count: int,
    in_ladder: bool,
    metrics: dict[str, Metric],
    report: BenchReporter,
    outputs: dict[str, list[dict[str, str]]],
) -> dict[str, Any]:
    """The full ancestral chain's time per sequence: the ladder's point, or timed here on the first batch."""
    total = models.schedule.num_timesteps
    if in_ladder:
        row = next(
            r for r in rows if r["model"] == "teacher" and r["sampler"] == REFERENCE_SAMPLER and r["steps"] == total
        )
        how = f"the ladder's {REFERENCE_SAMPLER} {total}-step point, on the same {row['sequences']} sequences"
        return {**{k: row[k] for k in REFERENCE_KEYS}, "in_ladder": True, "how": how}
    part = data.slice(0, ref_count)
    size = min(ref_count, config.batch_size)
    sampler = make_sampler(REFERENCE_SAMPLER, total)
    label = f"reference teacher {REFERENCE_SAMPLER} {total} steps"
    seed = config.seeds[0]
    out = _timed(models, models.teacher, sampler, part, size, seed, report, label)
    row = _measure("teacher", REFERENCE_SAMPLER, total, sampler.nfe(), [(seed, out)], part, metrics, models)
    stem = f"reference_{REFERENCE_SAMPLER}_step{total}"
    outputs[stem] = out.rows
    seeds_note = f", with seed {seed} only" if len(config.seeds) > 1 else ""
    how = (
        f"not in the ladder, so timed separately on the first {ref_count} of the {len(data)} sequences "
        f"(batch {size}{seeds_note}), after a warm-up; its scores cover those {ref_count} sequences only"
    )
    report.note(f"{label}: {row['seconds_per_seq']:.4g} s/seq ({how})")
    kept = {k: row[k] for k in (*REFERENCE_KEYS, "seeds", "metrics")}
    return {**kept, "in_ladder": False, "how": how, "outputs": [f"outputs/{stem}.json"]}

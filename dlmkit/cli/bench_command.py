"""``dlmkit bench``: quality against speed for the teacher's samplers and the student, on one machine.

Writes ``bench.json`` (every number), ``bench.md`` (a table), ``bench.png`` (BLEU against NFE) and
``outputs/`` (each point's generated lines, for ``dlmkit eval``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from dlmkit.cli.options import set_option
from dlmkit.cli.progress_bar import sequence_bar
from dlmkit.engine.progress import console
from dlmkit.engine.runtime import Runtime
from dlmkit.errors import UserError
from dlmkit.evaluation.bench import check_metrics, run_bench
from dlmkit.evaluation.bench_config import (
    DEFAULT_STUDENT_STEPS,
    DEFAULT_TEACHER_SAMPLERS,
    DEFAULT_TEACHER_STEPS,
    BenchConfig,
)
from dlmkit.evaluation.bench_plan import BenchModels
from dlmkit.evaluation.bench_plot import plot_bench
from dlmkit.evaluation.bench_report import render_markdown
from dlmkit.evaluation.output_files import OutputRow, write_output_file
from dlmkit.inference.metric_set import registered_metrics
from dlmkit.inference.sources import RESOLVED_RECIPE, open_source
from dlmkit.plugins import get_registry
from dlmkit.recipe.schema import DEFAULT_METRICS
from dlmkit.storage.atomic import write_text_atomic


def _joined(values: tuple[int, ...] | tuple[str, ...]) -> str:
    return ",".join(str(v) for v in values)


def parse_int_list(text: str, option: str) -> tuple[int, ...]:
    """``"1,2,4"`` -> ``(1, 2, 4)``; an empty string is an empty ladder."""
    values = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise UserError(f"{option} {text!r}: {part!r} is not a whole number >= 1; write e.g. 1,2,4")
        values.append(int(part))
    return tuple(values)


def parse_names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def metric_names(text: str) -> tuple[str, ...]:
    """Names as given; ``all`` is every registered metric that scores one sample per source."""
    if text.strip() == "all":
        return tuple(name for name, metric in registered_metrics().items() if not metric.needs_candidates)
    names = parse_names(text)
    if not names:
        raise UserError(f"--metrics {text!r} names no metric; give e.g. bleu,rouge_l or all")
    return names


class ConsoleReporter:
    """A bar per point on a terminal, and a line per point always, on stderr."""

    @contextlib.contextmanager
    def point(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        with sequence_bar(label, total) as advance:
            yield advance

    def note(self, text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)


@click.command("bench")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--teacher-steps", default=_joined(DEFAULT_TEACHER_STEPS), show_default=True, help="Teacher step ladder.")
@click.option(
    "--samplers", default=_joined(DEFAULT_TEACHER_SAMPLERS), show_default=True, help="Teacher samplers to run."
)
@click.option(
    "--student-steps",
    default=_joined(DEFAULT_STUDENT_STEPS),
    show_default=True,
    help="Student steps: 1 is one_step, more is student_multistep; empty for none.",
)
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True, help="First N sequences.")
@click.option("--batch-size", type=click.IntRange(min=1), default=50, show_default=True)
@click.option(
    "--metrics",
    default=_joined(DEFAULT_METRICS),
    show_default=True,
    help="Comma-separated metric names, or 'all' (bertscore loads a model).",
)
@click.option(
    "--reference-limit",
    type=click.IntRange(min=1),
    default=None,
    help="When the ladder lacks ancestral at T steps: sequences to time it on [default: one batch].",
)
@click.option(
    "--control/--no-control",
    default=True,
    show_default=True,
    help="With a student: also the teacher's one-step prediction at the student's t_init (the student before "
    "distillation), to read off what distillation added.",
)
@click.option("--split", type=click.Choice(["train", "valid", "test"]), default="test", show_default=True)
@click.option(
    "--seed",
    "seeds",
    type=int,
    multiple=True,
    default=(123,),
    show_default=True,
    help="Noise seed (repeatable): with several, each point runs once per seed and reports mean ± sd.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder [default: RUN/bench, or bench/RECIPE_NAME for a recipe].",
)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None, help="Override [runtime] device.")
@set_option
def bench_command(
    source: Path,
    teacher_steps: str,
    samplers: str,
    student_steps: str,
    limit: int,
    batch_size: int,
    metrics: str,
    reference_limit: int | None,
    control: bool,
    split: str,
    seeds: tuple[int, ...],
    out: Path | None,
    device: str | None,
    overrides: tuple[str, ...],
) -> None:
    """Benchmark SOURCE (a run folder, or a recipe with a [teacher] checkpoint): quality, NFE and speed.

    The teacher's samplers run over a ladder of steps and the student at 1, 2 and 4 steps, on the
    first --limit sequences, once per --seed; speed-ups are over the teacher's 2000-step ancestral
    sampler, timed in the same run.
    """
    if source.is_dir() and not (source / RESOLVED_RECIPE).is_file():
        raise UserError(f"{source} is not a run folder: it has no {RESOLVED_RECIPE}; give a run folder or a recipe")
    if source.is_file() and source.suffix != ".toml":
        raise UserError(f"{source}: bench takes a run folder or a recipe .toml, not a checkpoint")
    config = BenchConfig(
        teacher_steps=parse_int_list(teacher_steps, "--teacher-steps"),
        samplers=parse_names(samplers),
        student_steps=parse_int_list(student_steps, "--student-steps"),
        limit=limit,
        batch_size=batch_size,
        metrics=metric_names(metrics),
        split=split,
        seeds=seeds,
        reference_limit=reference_limit,
        control=control,
    )
    for name in config.samplers:
        get_registry().get("sampler", name)  # fail on a typo before loading anything
    check_metrics(config.metrics)
    opened = open_source(source, overrides)
    for note in opened.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    runtime = Runtime.from_spec(opened.recipe.runtime, device)
    teacher = opened.load_model("teacher", runtime.device)
    student = opened.load_model("student", runtime.device) if opened.student_path is not None else None
    models = BenchModels(teacher, student, opened.student_sampler, opened.schedule, opened.dataset, runtime.device)
    result = run_bench(models, config, ConsoleReporter())
    result.summary["source"] = {
        "kind": opened.kind,
        "path": str(source.resolve()),
        "recipe": opened.recipe.name,
        "teacher": str(opened.teacher_path),
        "student": str(opened.student_path) if opened.student_path is not None else None,
    }
    folder = out or (source / "bench" if opened.kind == "run" else Path("bench") / opened.recipe.name)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "outputs").mkdir(exist_ok=True)
    for stem, rows in result.outputs.items():
        write_output_file(folder / "outputs" / f"{stem}.json", [OutputRow(**row) for row in rows])
    write_text_atomic(folder / "bench.json", json.dumps(result.summary, indent=2))
    markdown = render_markdown(result.summary)
    write_text_atomic(folder / "bench.md", markdown)
    plot_bench(result.summary, folder / "bench.png")
    click.echo(markdown, nl=False)
    console.print(
        f"wrote {folder / 'bench.json'}, bench.md, bench.png and outputs/",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )

"""``dlmkit sample``: generate a split with a teacher or student and write DiffuSeq-format lines.

The file holds one ``{"recover", "reference", "source"}`` object per line, decoded as DiffuSeq's
decoder does (spec 4.1), so ``dlmkit eval`` and DiffuSeq's own ``eval_seq2seq.py`` read it.
"""

from __future__ import annotations

from pathlib import Path

import click

from dlmkit.cli.options import set_option
from dlmkit.cli.progress_bar import sequence_bar
from dlmkit.engine.progress import console
from dlmkit.engine.runtime import Runtime
from dlmkit.errors import UserError
from dlmkit.evaluation.output_files import OutputRow, write_output_file
from dlmkit.inference.generation import generate
from dlmkit.inference.progress_sampler import ProgressSampler
from dlmkit.inference.sampler_choice import choose_sampler, sampler_name, steps_of
from dlmkit.inference.sources import OpenedSource, Role, open_source

SPLITS = ("train", "valid", "test")


def default_output(opened: OpenedSource, role: str, sampler: str, steps: int, seed: int) -> Path:
    """``RUN/samples/ROLE_SAMPLER_stepN/seedS.json`` (or ``samples/RECIPE/...`` beside you): one folder per
    setting, one file per seed, as ``dlmkit eval FOLDER [--mbr]`` expects."""
    base = (
        opened.run_dir / "samples" if opened.kind == "run" and opened.run_dir else Path("samples") / opened.recipe.name
    )
    return base / f"{role}_{sampler}_step{steps}" / f"seed{seed}.json"


@click.command("sample")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--model",
    "role",
    type=click.Choice(["teacher", "student"]),
    default=None,
    help="Which model to sample [default: the student when SOURCE has one, else the teacher].",
)
@click.option(
    "--recipe",
    "data_from",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="For a checkpoint SOURCE: the recipe or run folder that gives its data and noise schedule.",
)
@click.option("--split", type=click.Choice(SPLITS), default="test", show_default=True)
@click.option(
    "--sampler",
    default=None,
    help="A registered sampler [default: the recipe's [sampler] (one_step) for the student, ancestral for the "
    "teacher]; see `dlmkit components sampler`.",
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=None,
    help="Sampler steps [default: the schedule's T (2000) for the teacher, 1 for the student; a student with "
    "N > 1 uses student_multistep].",
)
@click.option("--seed", type=int, default=123, show_default=True, help="Noise seed (DiffuSeq's run_decode.sh: 123).")
@click.option("--batch-size", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N sequences of the split.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output file [default: RUN/samples/MODEL_SAMPLER_stepN/seedS.json].",
)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None, help="Override [runtime] device.")
@set_option
def sample_command(
    source: Path,
    role: Role | None,
    data_from: Path | None,
    split: str,
    sampler: str | None,
    steps: int | None,
    seed: int,
    batch_size: int,
    limit: int | None,
    out: Path | None,
    device: str | None,
    overrides: tuple[str, ...],
) -> None:
    """Generate outputs for SOURCE's data: a run folder, a recipe, or a checkpoint (with --recipe).

    Writes one DiffuSeq line per sequence and prints the file's path; progress goes to stderr.
    """
    opened = open_source(source, overrides, data_from)
    for note in opened.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    chosen_role: Role = role or opened.default_role
    runtime = Runtime.from_spec(opened.recipe.runtime, device)
    model = opened.load_model(chosen_role, runtime.device)
    chosen = choose_sampler(chosen_role, sampler, steps, opened.student_sampler, opened.schedule.num_timesteps)
    if not opened.dataset.has_split(split):
        raise UserError(f"the data of {source} has no {split!r} split; set [data] {split} or pick another --split")
    data = opened.dataset.split(split)
    if limit is not None:
        data = data.slice(0, limit)
    name, count = sampler_name(chosen), steps_of(chosen)
    target = out or default_output(opened, chosen_role, name, count, seed)
    console.print(
        f"sampling {len(data)} {split} sequences: {chosen_role} {opened.model_path(chosen_role)}, sampler {name} "
        f"({count} step{'s' if count != 1 else ''}), seed {seed}, batch {batch_size}, {runtime.device}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    with sequence_bar(f"{chosen_role} {name}", len(data)) as advance:
        wrapped = ProgressSampler(chosen, advance)
        result = generate(model, wrapped, opened.schedule, opened.dataset, data, batch_size, seed, runtime.device)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_output_file(target, [OutputRow(**row) for row in result.rows])
    per_seq = result.seconds / max(1, len(result.rows))
    console.print(
        f"wrote {len(result.rows)} lines to {target} (NFE {chosen.nfe()}, {per_seq:.4g} s per sequence)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    click.echo(str(target))

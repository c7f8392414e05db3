"""``dlmkit export RUN DEST``: a run's student (or teacher) as a self-contained bundle folder."""

from __future__ import annotations

from pathlib import Path

import click

from dlmkit.cli.options import set_option
from dlmkit.errors import UserError


@click.command("export")
@click.argument("run", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--model", "role", type=click.Choice(["student", "teacher"]), default="student", show_default=True)
@set_option
def export_command(run: Path, dest: Path, role: str, overrides: tuple[str, ...]) -> None:
    """Write DEST: the model, its vocabulary, schedule, sampler (t_init), injector and a model card.

    `dlmkit generate DEST "..."` and `dlmkit.Generator.load(DEST)` then need nothing else.
    """
    from dlmkit.inference.bundle import write_bundle
    from dlmkit.inference.sources import open_source

    opened = open_source(run, overrides)
    if opened.kind != "run":
        raise UserError(f"{run}: export takes a run folder (the --output-dir of `dlmkit run`)")
    written = write_bundle(opened, "teacher" if role == "teacher" else "student", dest)
    click.echo(f"wrote {written} ({role})")

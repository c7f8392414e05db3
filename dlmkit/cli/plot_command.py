"""``dlmkit plot RUN``: the run's instruments as ``instruments.png`` beside its ``metrics.jsonl``."""

from __future__ import annotations

from pathlib import Path

import click

from dlmkit.storage.run_layout import RunFolder


@click.command("plot")
@click.argument("run", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: RUN/instruments.png.")
def plot_command(run: Path, out: Path | None) -> None:
    """Plot a run's validation metric, teacher error, psi advantage, output scale and discriminator accuracy."""
    from dlmkit.evaluation.run_plot import plot_run

    folder = RunFolder(run)
    written = plot_run(folder.metrics_log, out or run / "instruments.png")
    click.echo(f"wrote {written}")

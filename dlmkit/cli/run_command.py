"""``dlmkit run``: validate a recipe, then run its stages."""

from __future__ import annotations

from pathlib import Path

import click

from dlmkit.cli.options import recipe_argument, set_option
from dlmkit.recipe.load import load_recipe


def _not_empty(value: Path | None) -> Path | None:
    """An empty --output-dir would put the run in the working folder among the user's own files."""
    if value is not None and str(value) in ("", "."):
        raise click.BadParameter("give a folder for the run (an empty value would mean the working folder)")
    return value


@click.command("run")
@recipe_argument()
@set_option
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    callback=lambda ctx, param, value: _not_empty(value),
    help="Run folder (default: recipe's output_dir or runs/NAME).",
)
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in the run folder.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None, help="Override [runtime] device.")
@click.option("--progress/--no-progress", default=None, help="Force the progress bar on or off.")
@click.option("--nproc", type=click.IntRange(min=1), default=1, help="Data-parallel processes (torchrun, DDP).")
def run_command(
    recipe: str,
    overrides: tuple[str, ...],
    output_dir: Path | None,
    resume: bool,
    device: str | None,
    progress: bool | None,
    nproc: int,
) -> None:
    """Run every stage of RECIPE (teacher training, distillation), then evaluate.

    With --nproc N > 1 the recipe is validated once here, then N processes are started through
    torch.distributed.run (the same as: torchrun --nproc-per-node N -m dlmkit run RECIPE).
    """
    from dlmkit.engine.launch import inside_torchrun, launch
    from dlmkit.engine.pipeline import run_recipe

    loaded = load_recipe(recipe, overrides)
    if nproc > 1 and not inside_torchrun():
        args = [recipe, *(a for o in overrides for a in ("--set", o)), "--no-progress"]
        if output_dir is not None:
            args += ["--output-dir", str(output_dir)]
        if resume:
            args.append("--resume")
        if device is not None:
            args += ["--device", device]
        launch(nproc, args)
        return
    run_recipe(loaded, output_dir=output_dir, resume=resume, device=device, progress=progress)

"""``dlmkit show``: the fully resolved recipe, every default filled in, and the files it lacks."""

from __future__ import annotations

import click

from dlmkit.cli.options import recipe_argument, set_option
from dlmkit.plugins import get_registry
from dlmkit.recipe.file_checks import data_problems, missing_files
from dlmkit.recipe.load import load_recipe, render


@click.command("show")
@recipe_argument()
@set_option
def show_command(recipe: str, overrides: tuple[str, ...]) -> None:
    """Print RECIPE as TOML, resolved: defaults filled in, paths absolute, overrides applied.

    The recipe is printed whenever it is valid in itself; files it names that are not there yet (a
    teacher to import, data on another machine) are listed after it as warnings, and the exit code is 0.
    """
    resolved = load_recipe(recipe, overrides, files=False)
    click.echo(render(resolved), nl=False)
    stages = list(resolved.stages)
    for problem in [
        *missing_files(resolved.teacher, resolved.eval, stages),
        *data_problems(resolved.data, get_registry()),
    ]:
        click.echo(f"warning: {problem.where} {problem.message}", err=True)

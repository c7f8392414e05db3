"""``dlmkit show``: the fully resolved recipe, every default filled in."""

from __future__ import annotations

import click

from dlmkit.cli.options import recipe_argument, set_option
from dlmkit.recipe.load import load_recipe, render


@click.command("show")
@recipe_argument()
@set_option
def show_command(recipe: str, overrides: tuple[str, ...]) -> None:
    """Print RECIPE as TOML, resolved: defaults filled in, paths absolute, overrides applied."""
    click.echo(render(load_recipe(recipe, overrides)), nl=False)

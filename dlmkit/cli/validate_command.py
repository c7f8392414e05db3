"""``dlmkit validate``: check recipes without running anything."""

from __future__ import annotations

import json

import click

from dlmkit.cli.options import recipe_argument, set_option
from dlmkit.errors import RecipeError
from dlmkit.recipe.load import load_recipe


@click.command("validate")
@recipe_argument(multiple=True)
@set_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per recipe.")
def validate_command(recipes: tuple[str, ...], overrides: tuple[str, ...], as_json: bool) -> None:
    """Check recipes: keys, types, components, parameters and cross-references; all problems at once."""
    failed = 0
    for path in recipes:
        try:
            recipe = load_recipe(path, overrides)
        except RecipeError as exc:
            failed += 1
            if as_json:
                problems = [{"where": p.where, "message": p.message, "hint": p.hint} for p in exc.problems]
                click.echo(json.dumps({"recipe": path, "ok": False, "problems": problems}))
            else:
                click.echo(f"error: {exc}", err=True)
            continue
        if as_json:
            click.echo(json.dumps({"recipe": path, "ok": True, "stages": [s.name for s in recipe.stages]}))
        else:
            click.echo(f"ok: {path} ({len(recipe.stages)} stage{'s' if len(recipe.stages) != 1 else ''})")
    if failed:
        raise SystemExit(2)

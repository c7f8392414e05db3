"""``dlmkit validate``: check recipes without running anything."""

from __future__ import annotations

import json

import click

from dlmkit.cli.options import recipe_argument, set_option
from dlmkit.errors import RecipeError
from dlmkit.recipe.file_checks import FILE_CHECKS
from dlmkit.recipe.load import load_recipe


@click.command("validate")
@recipe_argument(multiple=True)
@set_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per recipe.")
@click.option(
    "--no-files", is_flag=True, help="Skip the checks that open data and checkpoint files (they may not be here yet)."
)
def validate_command(recipes: tuple[str, ...], overrides: tuple[str, ...], as_json: bool, no_files: bool) -> None:
    """Check recipes: keys, types, components, parameters and cross-references; all problems at once."""
    failed = 0
    if no_files and not as_json:
        click.echo(f"skipped (--no-files): {'; '.join(FILE_CHECKS)}", err=True)
    for path in recipes:
        try:
            recipe = load_recipe(path, overrides, files=not no_files, read_data=not no_files)
        except RecipeError as exc:
            failed += 1
            if as_json:
                problems = [{"where": p.where, "message": p.message, "hint": p.hint} for p in exc.problems]
                click.echo(json.dumps({"recipe": path, "ok": False, "problems": problems}))
            else:
                click.echo(f"error: {exc}", err=True)
            continue
        if as_json:
            skipped = list(FILE_CHECKS) if no_files else []
            stages = [s.name for s in recipe.stages]
            click.echo(json.dumps({"recipe": path, "ok": True, "stages": stages, "skipped": skipped}))
        else:
            click.echo(f"ok: {path} ({len(recipe.stages)} stage{'s' if len(recipe.stages) != 1 else ''})")
    if failed:
        raise SystemExit(2)

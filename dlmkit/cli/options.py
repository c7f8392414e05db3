"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a recipe key with a TOML value, e.g. --set stage.stage1.steps=100 (repeatable).",
)


def recipe_argument(multiple: bool = False) -> Callable[[Any], Any]:
    return click.argument(
        "recipes" if multiple else "recipe",
        nargs=-1 if multiple else 1,
        required=True,
        type=click.Path(dir_okay=False, path_type=str),
    )

"""Reading a recipe file: TOML text of bounded size, every failure a ``RecipeError`` naming the file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from dlmkit.errors import Problem, RecipeError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


#: A recipe is a short text file; anything larger is not one (and ``/dev/zero`` would never end).
MAX_RECIPE_BYTES = 1 << 20


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; syntax errors name the line and column, and non-recipes are refused before reading."""

    def refuse(message: str) -> RecipeError:
        return RecipeError(str(path), [Problem("", message)])

    try:
        if not path.exists():
            raise refuse("file not found")
        if not path.is_file():
            raise refuse("not a regular file (a recipe is a TOML text file)")
        if path.stat().st_size > MAX_RECIPE_BYTES:
            raise refuse(f"{path.stat().st_size:,} bytes; a recipe is a TOML text file of at most {MAX_RECIPE_BYTES:,}")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise refuse(f"cannot read the file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise refuse(f"not UTF-8 text (byte {exc.start}); a recipe is a TOML text file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise refuse(f"TOML syntax error: {exc}") from None
    except RecursionError:
        raise refuse("tables or arrays nested too deeply") from None

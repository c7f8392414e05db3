"""dlmkit: distill continuous diffusion language models into one-step text generators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlmkit.hookspecs import hookimpl
from dlmkit.version import __version__

if TYPE_CHECKING:
    from dlmkit.interfaces import Teacher

__all__ = ["Generator", "__version__", "hookimpl", "load_recipe", "load_teacher"]


def load_teacher(path: Any) -> Teacher:
    """Load a teacher (dlmkit checkpoint, or an official DiffuSeq ``.pt`` / folder) in eval mode."""
    from dlmkit.storage.teacher_files import load_teacher as _load

    return _load(path)


def load_recipe(path: Any, overrides: Any = ()) -> Any:
    """Read and validate a recipe file (see ``dlmkit.recipe.load.load_recipe``)."""
    from dlmkit.recipe.load import load_recipe as _load

    return _load(path, overrides)


def __getattr__(name: str) -> Any:
    """``dlmkit.Generator`` (text in, text out), imported on first use so ``import dlmkit`` stays light."""
    if name == "Generator":
        from dlmkit.inference.generator import Generator

        return Generator
    raise AttributeError(f"module 'dlmkit' has no attribute {name!r}")

"""Register a plugin object for the length of a test, as an entry point would, then remove it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dlmkit.plugins import get_plugins


@contextmanager
def temporary_plugin(plugin: object, name: str) -> Iterator[None]:
    """``plugin``'s hook implementations are in the process-wide registry inside the ``with`` only."""
    plugins = get_plugins()
    plugins.register_plugin(plugin, name, "tests", "0", builtin=False)
    try:
        yield
    finally:
        plugins.unregister_plugin(plugin)

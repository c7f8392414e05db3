"""Building registered components by name, with their default or given parameters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dlmkit.interfaces import Metric
from dlmkit.plugins import get_registry


def build_named(kind: str, name: str, **params: Any) -> Any:
    """A component of ``kind`` called ``name``; ``params`` override its defaults."""
    entry = get_registry().get(kind, name)
    return entry.factory(entry.make_params(**params))


def registered_metrics(names: Iterable[str] | None = None) -> Mapping[str, Metric]:
    """Metrics from the registry (built-in and plugin ones), all of them or those named."""
    registry = get_registry()
    wanted = list(names) if names is not None else registry.names("metric")
    return {name: build_named("metric", name) for name in wanted}

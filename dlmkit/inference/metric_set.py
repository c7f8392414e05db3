"""The metrics a run, ``dlmkit eval`` or ``dlmkit bench`` scores with: registered ones, by name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dlmkit.interfaces import Metric
from dlmkit.plugins import build, get_registry


def registered_metrics(names: Iterable[str] | None = None) -> Mapping[str, Metric]:
    """Metrics from the registry (built-in and plugin ones), all of them or those named."""
    registry = get_registry()
    wanted = list(names) if names is not None else registry.names("metric")
    return {name: build("metric", name) for name in wanted}

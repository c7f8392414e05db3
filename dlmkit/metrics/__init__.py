"""Built-in metrics: DiffuSeq-exact quality and diversity scores, plus sacreBLEU and BERTScore."""

from __future__ import annotations

from dlmkit.hookspecs import Register, hookimpl
from dlmkit.metrics.builtin import BUILTIN_METRICS, MetricSpec

__all__ = ["BUILTIN_METRICS", "MetricSpec", "register_metrics"]


@hookimpl
def register_metrics(register: Register) -> None:
    """Offer every built-in metric to the registry under its name."""
    for spec in BUILTIN_METRICS:
        register(spec.name, spec.factory, params=spec.params, summary=spec.summary)

"""The register_metrics hookimpl offers every built-in metric, each a Metric with frozen params."""

from __future__ import annotations

from typing import Any

import attrs
import pluggy
import pytest

import dlmkit.hookspecs
import dlmkit.metrics
from dlmkit.interfaces import Metric

NAMES = {"bleu", "rouge_l", "dist1", "avg_len", "self_bleu", "div4", "sacrebleu", "bertscore", "validity", "mode_tv"}


def _registered() -> dict[str, dict[str, Any]]:
    manager = pluggy.PluginManager("dlmkit")
    manager.add_hookspecs(dlmkit.hookspecs)
    manager.register(dlmkit.metrics)
    seen: dict[str, dict[str, Any]] = {}

    def register(
        name: str, factory: Any, params: type | None = None, summary: str = "", override: bool = False
    ) -> None:
        assert name not in seen, f"{name} registered twice"
        seen[name] = {"factory": factory, "params": params, "summary": summary}

    manager.hook.register_metrics(register=register)
    return seen


def test_every_metric_is_registered_with_a_summary() -> None:
    seen = _registered()
    assert set(seen) == NAMES
    assert all(entry["summary"] for entry in seen.values())


@pytest.mark.parametrize("name", sorted(NAMES))
def test_factory_builds_a_metric_from_default_params(name: str) -> None:
    entry = _registered()[name]
    params_cls = entry["params"]
    assert attrs.has(params_cls)
    params = params_cls()
    metric = entry["factory"](params)
    assert isinstance(metric, Metric)
    assert metric.needs_candidates is (name in {"self_bleu", "div4"})
    if attrs.fields(params_cls):
        field = attrs.fields(params_cls)[0].name
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(params, field, None)

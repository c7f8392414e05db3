"""Both injectors register through the ``register_injectors`` hook with their params classes."""

from __future__ import annotations

from typing import Any

import attrs

from dlmkit.injectors import register_injectors
from dlmkit.interfaces import ConditioningInjector


def test_register_injectors_offers_both_with_params_and_summaries() -> None:
    seen: dict[str, tuple[Any, type | None, str]] = {}

    def register(
        name: str, factory: Any, params: type | None = None, summary: str = "", override: bool = False
    ) -> None:
        seen[name] = (factory, params, summary)

    register_injectors(register)
    assert set(seen) == {"replace_condition", "partial_noising"}
    for name, (factory, params, summary) in seen.items():
        assert params is not None and attrs.has(params), name
        assert summary
        assert isinstance(factory(params()), ConditioningInjector)

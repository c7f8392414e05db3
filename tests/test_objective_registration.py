"""The five objectives register through ``register_objectives`` with frozen, validated params classes."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from dlmkit.interfaces import Objective
from dlmkit.objectives import register_objectives
from dlmkit.objectives.adversarial import AdversarialParams
from dlmkit.objectives.sid import SidParams
from dlmkit.objectives.sid_gan import SidGanParams


def _registered() -> dict[str, tuple[Any, Any, str]]:
    seen: dict[str, tuple[Any, Any, str]] = {}

    def register(
        name: str, factory: Any, params: type | None = None, summary: str = "", override: bool = False
    ) -> None:
        seen[name] = (factory, params, summary)

    register_objectives(register)
    return seen


def test_all_five_objectives_are_registered_and_build_from_defaults() -> None:
    seen = _registered()
    assert set(seen) == {"sid", "adversarial", "sid_gan", "dmd", "gan"}
    for name, (factory, params, summary) in seen.items():
        assert attrs.has(params) and summary, name
        assert isinstance(factory(params()), Objective), name


def test_params_are_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        SidParams().alpha = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SidParams(weighting="karras"), "'weighting' must be in"),  # type: ignore[arg-type]
        (lambda: SidParams(lambda_g=-1.0), "'lambda_g' must be >= 0"),
        (lambda: SidParams(alpha=True), "'alpha' must be a number"),
        (lambda: SidGanParams(gan_scale=0.0), "'gan_scale' must be > 0"),
        (lambda: AdversarialParams(disc_weighting="sid_legacy"), "'disc_weighting' must be in"),  # type: ignore[arg-type]
    ],
)
def test_bad_values_name_the_key(make: Any, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        make()

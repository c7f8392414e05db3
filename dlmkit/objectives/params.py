"""Validators shared by the objectives' parameter classes.

They accept TOML integers where a float is meant and reject booleans, and are called with
``instance=None`` by the recipe loader, so they look only at the value.
"""

from __future__ import annotations

import math
from typing import Any

import attrs


def _number(attribute: attrs.Attribute[Any], value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"'{attribute.name}' must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"'{attribute.name}' must be finite, got {value}")
    return float(value)


def finite_number(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    _number(attribute, value)


def positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if _number(attribute, value) <= 0.0:
        raise ValueError(f"'{attribute.name}' must be > 0, got {value}")


def non_negative(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if _number(attribute, value) < 0.0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (0 turns the term off), got {value}")


def update_ratio(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"'{attribute.name}' must be an integer >= 1 (psi updates per generator update), got {value!r}"
        )


def boolean(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"'{attribute.name}' must be true or false, got {value!r}")

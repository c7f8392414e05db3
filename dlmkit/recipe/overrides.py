"""``--set a.b=v`` overrides, parsed as TOML values and applied to the raw recipe before validation."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterable
from typing import Any

from dlmkit.errors import Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def parse_value(text: str) -> Any:
    """A TOML value (``5``, ``1e-5``, ``true``, ``[0.0, 0.999]``, ``"x"``); a bare word stays a string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str], problems: list[Problem]) -> dict[str, Any]:
    """A copy of ``raw`` with each ``dotted.key=value`` set.

    Stages are addressed by name or index: ``stage.stage1.steps=10`` or ``stage.0.steps=10``.
    """
    data = copy.deepcopy(raw)
    for item in overrides:
        where = f"--set {item}"
        key, sep, text = item.partition("=")
        parts = [p for p in key.strip().split(".") if p]
        if not sep or not parts:
            problems.append(Problem(where, "expected KEY=VALUE, for example stage.stage1.steps=100"))
            continue
        if "\n" in item or "\r" in item:
            problems.append(Problem(where.splitlines()[0], "one KEY=VALUE per --set; a value holds no line break"))
            continue
        node: Any = data
        ok = True
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                picked = _pick_stage(node, part)
                if picked is None:
                    names = ", ".join(str(s.get("name", j)) for j, s in enumerate(node) if isinstance(s, dict))
                    problems.append(Problem(where, f"no stage '{part}'; stages: {names}"))
                    ok = False
                    break
                node = picked
            elif isinstance(node, dict):
                if part not in node:
                    node[part] = {}
                node = node[part]
                if not isinstance(node, dict | list):
                    problems.append(Problem(where, f"'{'.'.join(parts[: i + 1])}' is a value, not a table"))
                    ok = False
                    break
        if not ok:
            continue
        if not isinstance(node, dict):
            problems.append(Problem(where, f"'{key}' does not name a key inside a table"))
            continue
        try:
            node[parts[-1]] = parse_value(text.strip())
        except RecursionError:
            problems.append(Problem(where, "the value is nested too deeply"))
    return data


def _pick_stage(stages: list[Any], part: str) -> dict[str, Any] | None:
    for stage in stages:
        if isinstance(stage, dict) and stage.get("name") == part:
            return stage
    if part.isdigit() and int(part) < len(stages) and isinstance(stages[int(part)], dict):
        return stages[int(part)]
    return None

"""A small TOML writer for resolved recipes (``dlmkit show`` and ``resolved.toml``)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_scalar(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def dumps(data: Mapping[str, Any]) -> str:
    """TOML text for nested dicts/lists; tables after plain keys, as TOML requires."""
    lines: list[str] = []
    _write_table(lines, data, [])
    return "\n".join(lines).strip() + "\n"


def _write_table(lines: list[str], table: Mapping[str, Any], path: list[str]) -> None:
    for key, value in table.items():
        if not isinstance(value, Mapping) and not _is_table_array(value):
            lines.append(f"{_key(key)} = {_scalar(value)}")
    for key, value in table.items():
        if isinstance(value, Mapping):
            lines.append("")
            lines.append("[" + ".".join(_key(p) for p in [*path, key]) + "]")
            _write_table(lines, value, [*path, key])
        elif _is_table_array(value):
            for item in value:
                lines.append("")
                lines.append("[[" + ".".join(_key(p) for p in [*path, key]) + "]]")
                _write_table(lines, item, [*path, key])

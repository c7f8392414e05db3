"""Strict structuring of TOML tables into frozen attrs classes, collecting every problem.

Recipes are its main user, but teacher configs, bundle manifests and component params are structured
the same way, so it sits in the core layer, below ``recipe/`` and ``storage/`` (docs/architecture.md).

Unknown keys are errors with a did-you-mean and the allowed keys; values are checked against the
field's type and validators.  Nothing is built until a table is free of problems, so one pass
reports everything wrong with a recipe.  ``where`` is always a table path such as
``[stage "s1"].optim.psi``; messages name the key inside it.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from dlmkit.errors import Problem

PATH_METADATA = "dlmkit_path"
COMPONENT_METADATA = "dlmkit_component"

MISSING: Any = object()


def path_field(default: Any = attrs.NOTHING, keywords: tuple[str, ...] = (), **kwargs: Any) -> Any:
    """An attrs field holding a path: relative values resolve against the recipe's folder.

    ``keywords`` are values that are not paths (``vocab = "bert"``) and are left as they are.
    """
    metadata = {**kwargs.pop("metadata", {}), PATH_METADATA: keywords}
    return attrs.field(default=default, metadata=metadata, **kwargs)


def finite(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """attrs validator: a number that is not NaN or infinite (``lr = inf`` would train on NaN)."""
    if value is not None and not math.isfinite(value):
        raise ValueError(f"'{attribute.name}' must be a finite number, got {value}")


STAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: Folders of a run that dlmkit itself writes; a stage may not take their names.
RESERVED_STAGE_NAMES = frozenset({"outputs", "samples", "bench"})


def stage_name(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """attrs validator: a stage name is its folder's name, so it must be a plain slug that stays in the run folder."""
    if not isinstance(value, str) or not STAGE_NAME.fullmatch(value):
        raise ValueError(
            f"'{attribute.name}' must be 1-64 letters, digits, '_' or '-', starting with a letter or digit "
            "(it names the stage's folder in the run)"
        )
    if value in RESERVED_STAGE_NAMES:
        raise ValueError(f"'{attribute.name}' {value!r} is a folder dlmkit writes in every run; choose another name")


def component_field(kind: str, **kwargs: Any) -> Any:
    """An attrs field holding a ``ComponentRef``: a table whose ``name`` picks a registered ``kind``."""
    metadata = {**kwargs.pop("metadata", {}), COMPONENT_METADATA: kind}
    return attrs.field(metadata=metadata, **kwargs)


def describe_type(tp: Any) -> str:
    """A type as a recipe author reads it."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is type(None):
        return "nothing"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        text = " or ".join(describe_type(a) for a in args if a is not type(None))
        return text + (" (optional)" if type(None) in args else "")
    if origin in (list, tuple):
        return f"an array of {describe_type(args[0]) if args else 'values'}"
    if isinstance(tp, type):
        if attrs.has(tp):
            return "a table"
        names = {"str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean"}
        return names.get(tp.__name__, tp.__name__)
    return str(tp)


def type_name(value: Any) -> str:
    names = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "list": "array", "dict": "table"}
    return names.get(type(value).__name__, type(value).__name__)


ComponentResolver = Callable[[str, Any, str], Any]


class Structurer:
    """Converts mappings into attrs instances, appending problems instead of raising."""

    def __init__(self, base_dir: Path | None, problems: list[Problem], component: ComponentResolver | None = None):
        self.base_dir = base_dir
        self.problems = problems
        self.component = component

    def problem(self, where: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(where, message, hint))

    def structure(self, cls: type, table: Any, where: str, skip: frozenset[str] = frozenset()) -> Any:
        """An instance of ``cls`` from ``table``, or ``MISSING`` after recording the problems."""
        if not isinstance(table, Mapping):
            self.problem(where, f"must be a table, got {table!r} ({type_name(table)})")
            return MISSING
        fields = {f.name: f for f in attrs.fields(cls) if f.init}
        hints = typing.get_type_hints(cls)
        before = len(self.problems)
        allowed = sorted(set(fields) | set(skip))
        for key in table:
            if key not in fields and key not in skip:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = (f"did you mean '{close[0]}'?  " if close else "") + "allowed: " + ", ".join(allowed)
                self.problem(where, f"unknown key '{key}'", hint)
        values: dict[str, Any] = {}
        for name, field in fields.items():
            if name not in table:
                if field.default is attrs.NOTHING:
                    self.problem(where, f"missing required key '{name}' ({describe_type(hints.get(name, Any))})")
                continue
            value = self.convert(table[name], hints.get(name, Any), where, name, field)
            if value is MISSING:
                continue
            if field.validator is not None:
                try:
                    field.validator(None, field, value)
                except (ValueError, TypeError) as exc:
                    self.problem(where, f"'{name}' = {table[name]!r} is not allowed: {validator_message(exc)}")
                    continue
                except AttributeError:
                    pass  # a validator that looks at other fields; construction below runs it
            values[name] = value
        if len(self.problems) > before:
            return MISSING
        try:
            return cls(**values)
        except (ValueError, TypeError) as exc:
            self.problem(where, validator_message(exc))
            return MISSING

    def convert(self, value: Any, tp: Any, where: str, key: str, field: attrs.Attribute | None = None) -> Any:
        """``value`` of ``key`` checked against ``tp`` (TOML integers are accepted as floats), or ``MISSING``."""
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if field is not None and COMPONENT_METADATA in field.metadata and self.component is not None:
            return self.component(field.metadata[COMPONENT_METADATA], value, f"{where}.{key}")
        if tp is Any:
            return value
        if origin in (typing.Union, types.UnionType):
            options = [a for a in args if a is not type(None)]
            if len(options) == 1:
                return self.convert(value, options[0], where, key, field)
            for option in options:
                scratch: list[Problem] = []
                converted = Structurer(self.base_dir, scratch, self.component).convert(value, option, where, key, field)
                if converted is not MISSING and not scratch:
                    return converted
            return self.wrong(value, tp, where, key)
        if origin is Literal:
            if any(value == a and type(value) is type(a) for a in args):
                return value
            close = difflib.get_close_matches(str(value), [str(a) for a in args], n=1)
            hint = f"did you mean {close[0]!r}?" if close else ""
            self.problem(where, f"'{key}' must be {describe_type(tp)}, got {value!r}", hint)
            return MISSING
        if origin in (list, tuple):
            if not isinstance(value, list | tuple):
                return self.wrong(value, tp, where, key)
            inner = args[0] if args else Any
            items = [self.convert(item, inner, where, f"{key}[{i}]", field) for i, item in enumerate(value)]
            if any(item is MISSING for item in items):
                return MISSING
            return tuple(items) if origin is tuple else items
        if isinstance(tp, type) and attrs.has(tp):
            return self.structure(tp, value, f"{where}.{key}")
        if tp is bool:
            return value if isinstance(value, bool) else self.wrong(value, tp, where, key)
        if tp is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
            return value if ok else self.wrong(value, tp, where, key)
        if tp is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            return self.wrong(value, tp, where, key)
        if tp is str:
            if not isinstance(value, str):
                return self.wrong(value, tp, where, key)
            if field is not None and PATH_METADATA in field.metadata and value not in field.metadata[PATH_METADATA]:
                if not value.strip():  # "" would resolve to the recipe's own folder
                    self.problem(where, f"'{key}' is an empty path; give a file or folder, or leave the key out")
                    return MISSING
                return resolve_path(value, self.base_dir)
            return value
        if tp is Path:
            return (
                Path(resolve_path(value, self.base_dir))
                if isinstance(value, str)
                else self.wrong(value, tp, where, key)
            )
        return value

    def wrong(self, value: Any, tp: Any, where: str, key: str) -> Any:
        self.problem(where, f"'{key}' must be {describe_type(tp)}, got {value!r} ({type_name(value)})")
        return MISSING


def resolve_path(value: str, base_dir: Path | None) -> str:
    """Relative paths resolve against ``base_dir``; ``~`` and environment variables expand first."""
    expanded = os.path.expandvars(os.path.expanduser(value))
    if base_dir is None or os.path.isabs(expanded) or "://" in expanded or expanded.startswith("stage:"):
        return expanded
    return os.path.normpath(os.path.join(base_dir, expanded))


def validator_message(exc: BaseException) -> str:
    return str(exc.args[0]) if exc.args else str(exc)


def unstructure(obj: Any) -> Any:
    """Plain TOML-ready data (dicts, lists, scalars) from attrs instances; ``None`` values are left out."""
    if attrs.has(type(obj)):
        return {
            f.name: unstructure(getattr(obj, f.name))
            for f in attrs.fields(type(obj))
            if getattr(obj, f.name) is not None
        }
    if isinstance(obj, list | tuple):
        return [unstructure(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: unstructure(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, Path):
        return str(obj)
    return obj

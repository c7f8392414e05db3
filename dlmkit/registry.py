"""The component registry: ``kind -> name -> Entry``, filled by the registration hooks."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from dlmkit.errors import ComponentNotFound, PluginConflict

KINDS: tuple[str, ...] = ("teacher", "schedule", "objective", "injector", "sampler", "metric", "dataset")

HOOK_FOR_KIND: dict[str, str] = {
    "teacher": "register_teachers",
    "schedule": "register_schedules",
    "objective": "register_objectives",
    "injector": "register_injectors",
    "sampler": "register_samplers",
    "metric": "register_metrics",
    "dataset": "register_datasets",
}


@attrs.frozen
class Entry:
    """One registered component: how to build it, what it accepts, and who provided it."""

    kind: str
    name: str
    factory: Callable[..., Any]
    params: type | None
    provider: str
    version: str
    summary: str
    overrides: str | None = None

    def make_params(self, **values: Any) -> Any:
        """Default (or given) parameters; components without a params class take ``None``."""
        return self.params(**values) if self.params is not None else None


@attrs.define
class Registry:
    """All components by kind.  Registering a name twice is an error unless ``override=True``."""

    entries: dict[str, dict[str, Entry]] = attrs.field(factory=lambda: {kind: {} for kind in KINDS})

    def add(self, entry: Entry, override: bool = False) -> None:
        table = self.entries[entry.kind]
        existing = table.get(entry.name)
        if existing is not None and not override:
            raise PluginConflict(
                f"{entry.kind} '{entry.name}' is registered twice: by {existing.provider} {existing.version} "
                f"and by {entry.provider} {entry.version}; rename one, or pass override=True to register() "
                "to replace it on purpose"
            )
        if existing is not None:
            entry = attrs.evolve(entry, overrides=f"{existing.provider} {existing.version}")
        table[entry.name] = entry

    def get(self, kind: str, name: str) -> Entry:
        table = self.entries.get(kind)
        if table is None:
            raise ComponentNotFound(f"unknown component kind '{kind}'; kinds: {', '.join(KINDS)}")
        if name in table:
            return table[name]
        raise ComponentNotFound(self.missing_message(kind, name))

    def missing_message(self, kind: str, name: str) -> str:
        names = sorted(self.entries[kind])
        registered = ", ".join(f"{n} ({self.entries[kind][n].provider})" for n in names) or "none"
        message = f"no {kind} named '{name}'; registered: {registered}"
        close = difflib.get_close_matches(name, names, n=1)
        if close:
            message += f"; did you mean '{close[0]}'?"
        return message + f" (see `dlmkit components {kind}`)"

    def names(self, kind: str) -> list[str]:
        return sorted(self.entries[kind])

    def __iter__(self) -> Iterator[Entry]:
        for kind in KINDS:
            yield from (self.entries[kind][name] for name in sorted(self.entries[kind]))

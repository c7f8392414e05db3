"""The component registry: ``kind -> name -> Entry``, filled by the registration hooks."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from dlmkit.errors import ComponentNotFound, PluginConflict


@attrs.frozen
class Kind:
    """A component kind: the hook that registers it and the ``dlmkit.interfaces`` protocol it satisfies."""

    hook: str
    interface: str


#: The one table of component kinds; the registry, the plugin loader, the interface checks and the CLI read it.
KINDS: dict[str, Kind] = {
    "teacher": Kind("register_teachers", "Teacher"),
    "schedule": Kind("register_schedules", "NoiseSchedule"),
    "objective": Kind("register_objectives", "Objective"),
    "injector": Kind("register_injectors", "ConditioningInjector"),
    "sampler": Kind("register_samplers", "Sampler"),
    "metric": Kind("register_metrics", "Metric"),
    "dataset": Kind("register_datasets", "Dataset"),
    "stage": Kind("register_stages", "Stage"),
    "teacher_loss": Kind("register_teacher_losses", "TeacherLoss"),
    "timestep_sampler": Kind("register_timestep_samplers", "TimestepSampler"),
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

    def build(self, params: Any = None, **context: Any) -> Any:
        """The component, from ``params`` (its defaults when ``None``) and its kind's build context.

        Every kind's factory takes its params first, then what its hook documents (teachers:
        ``vocab_size``, ``seq_len``, ``tokens``; timestep samplers: ``num_timesteps``).
        """
        return self.factory(self.make_params() if params is None else params, **context)


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

    def build(self, kind: str, name: str, params: Any = None, **context: Any) -> Any:
        """Look ``kind``/``name`` up and build it: the one way every component is made."""
        return self.get(kind, name).build(params, **context)

    def names(self, kind: str) -> list[str]:
        return sorted(self.entries[kind])

    def __iter__(self) -> Iterator[Entry]:
        for kind in KINDS:
            yield from (self.entries[kind][name] for name in sorted(self.entries[kind]))

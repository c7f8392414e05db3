"""The recipe's timesteps: ``t_init`` resolved once for every stage, and every named step inside the schedule."""

from __future__ import annotations

from typing import Any

import attrs

from dlmkit.errors import Problem
from dlmkit.recipe.schema import StageSpec, sampler_t_init
from dlmkit.registry import Registry
from dlmkit.structuring import MISSING


def shared_t_init(
    sampler: Any, stages: list[StageSpec], registry: Registry, problems: list[Problem]
) -> list[StageSpec]:
    """Resolve every stage's ``t_init``, here and nowhere else: set, it must agree with the ``[sampler]``'s;
    unset, it becomes the sampler's (or, for a sampler without one, the one-step sampler's default).

    The student is trained from ``t_init`` and evaluated by the recipe's sampler from its ``t_init``;
    two values that disagree would score a student at a point it was never trained for.
    """
    own = sampler_t_init(sampler)
    fallback = own if own is not None else registry.get("sampler", "one_step").make_params().t_init
    resolved = []
    for spec in stages:
        value = getattr(spec.params, "t_init", MISSING)
        if isinstance(value, int) and own is not None and value != own:
            problems.append(
                Problem(
                    f'[[stage]] "{spec.name}"',
                    f"'t_init' = {value} differs from [sampler] t_init = {own}",
                    "set t_init once, in [sampler]; the stages take it from there",
                )
            )
        if value is None and attrs.has(type(spec.params)):
            spec = attrs.evolve(spec, params=attrs.evolve(spec.params, t_init=fallback))
        resolved.append(spec)
    return resolved


def check_times(schedule: Any, sampler: Any, stages: list[Any], problems: list[Problem]) -> None:
    """Every timestep a stage or the sampler names must exist in the schedule (found now, not after training)."""
    total = getattr(getattr(schedule, "params", None), "num_timesteps", None)
    if not isinstance(total, int):
        return
    shared = sampler_t_init(sampler) if sampler is not MISSING else None
    named = [
        (f'[[stage]] "{s.name}"', key, getattr(s.params, key, None))
        for s in stages
        for key in ("t_init", "t_max")
        if not (key == "t_init" and getattr(s.params, key, None) == shared)  # the sampler's, said once below
    ]
    if sampler is not MISSING:
        named.append(("[sampler]", "t_init", getattr(sampler.params, "t_init", None)))
    for where, key, value in named:
        if isinstance(value, int) and value >= total:
            problems.append(
                Problem(
                    where,
                    f"'{key}' = {value} is past the schedule's last step; [schedule] has {total} steps "
                    f"(0 to {total - 1})",
                )
            )

"""What ``[eval]`` names that only the registry can check."""

from __future__ import annotations

import attrs

from dlmkit.recipe.schema import EvalSpec
from dlmkit.registry import Registry


def eval_sampler_problems(spec: EvalSpec, registry: Registry) -> list[str]:
    """``teacher_sampler`` is registered, and has a ``rounding`` key when ``teacher_unrounded`` asks to turn it off."""
    name = spec.teacher_sampler
    if name is not None and name not in registry.entries["sampler"]:
        return [registry.missing_message("sampler", name)]
    params = registry.entries["sampler"][name].params if name is not None else None
    if spec.teacher_unrounded and (params is None or "rounding" not in attrs.fields_dict(params)):
        return [f"'teacher_unrounded' needs a teacher_sampler with a 'rounding' key (ancestral), not {name!r}"]
    return []

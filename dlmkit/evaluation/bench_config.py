"""What ``dlmkit bench`` measures: which samplers at which steps, on how many sequences, scored how."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from dlmkit.recipe.schema import DEFAULT_METRICS

DEFAULT_TEACHER_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)
DEFAULT_TEACHER_SAMPLERS = ("ancestral", "ddim", "ddim_gap", "dpm_solver_pp")
DEFAULT_STUDENT_STEPS = (1, 2, 4)


def _positive_ints(instance: Any, attribute: attrs.Attribute[Any], value: tuple[int, ...]) -> None:
    bad = [v for v in value if isinstance(v, bool) or not isinstance(v, int) or v < 1]
    if bad:
        raise ValueError(f"{attribute.name} must hold integers >= 1, got {bad}")


def _names(instance: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if any(not isinstance(v, str) or not v for v in value):
        raise ValueError(f"{attribute.name} must hold non-empty names, got {list(value)}")


def _sorted_unique(values: Sequence[int]) -> tuple[int, ...]:
    return tuple(sorted(set(values)))


def _str_tuple(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(values)


def _unique_in_order(values: Sequence[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(values))


def _seed_values(instance: Any, attribute: attrs.Attribute[Any], value: tuple[int, ...]) -> None:
    if not value or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise ValueError(f"{attribute.name} must hold at least one integer, got {list(value)}")


@attrs.frozen
class BenchConfig:
    """What to measure: which samplers at which steps, on how many sequences, scored how."""

    teacher_steps: tuple[int, ...] = attrs.field(
        default=DEFAULT_TEACHER_STEPS, converter=_sorted_unique, validator=_positive_ints
    )
    samplers: tuple[str, ...] = attrs.field(default=DEFAULT_TEACHER_SAMPLERS, converter=_str_tuple, validator=_names)
    student_steps: tuple[int, ...] = attrs.field(
        default=DEFAULT_STUDENT_STEPS, converter=_sorted_unique, validator=_positive_ints
    )
    limit: int = attrs.field(default=200, validator=[attrs.validators.instance_of(int), attrs.validators.ge(1)])
    batch_size: int = attrs.field(default=50, validator=[attrs.validators.instance_of(int), attrs.validators.ge(1)])
    metrics: tuple[str, ...] = attrs.field(
        default=DEFAULT_METRICS, converter=_str_tuple, validator=[_names, attrs.validators.min_len(1)]
    )
    split: str = attrs.field(default="test", validator=attrs.validators.in_(["train", "valid", "test"]))
    seeds: tuple[int, ...] = attrs.field(default=(123,), converter=_unique_in_order, validator=_seed_values)
    """Noise seeds: every point runs once per seed and reports the mean over seeds and their spread."""
    control: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    """With a student: also the teacher's one-step prediction at the student's ``t_init`` (the student before
    distillation), so that what distillation itself added can be read off the same table."""
    reference_limit: int | None = attrs.field(
        default=None, validator=attrs.validators.optional([attrs.validators.instance_of(int), attrs.validators.ge(1)])
    )
    """Sequences to time the full ancestral chain on when the ladder lacks it (default: one batch)."""

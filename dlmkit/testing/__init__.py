"""Reusable checks for plugin authors: run them in your plugin's own tests.

``from dlmkit.testing import check_teacher, check_objective, check_sampler, check_schedule, check_metric``;
``temporary_plugin`` registers a plugin object for one test.
Names are imported on first use, so that the toy plugin (registered from this package on every
start) does not pull in hypothesis, a test-only dependency.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlmkit.testing.distill_contexts import TeacherContexts as TeacherContexts
    from dlmkit.testing.metric_contract import check_metric as check_metric
    from dlmkit.testing.objective_contract import ContractViolation as ContractViolation
    from dlmkit.testing.objective_contract import check_objective as check_objective
    from dlmkit.testing.sampler_contract import check_sampler as check_sampler
    from dlmkit.testing.schedule_contract import check_schedule as check_schedule
    from dlmkit.testing.teacher_contract import check_teacher as check_teacher
    from dlmkit.testing.toy_teacher import ToyTeacherParams as ToyTeacherParams
    from dlmkit.testing.toy_teacher import build_toy_teacher as build_toy_teacher

_EXPORTS: dict[str, str] = {
    "check_teacher": "dlmkit.testing.teacher_contract",
    "check_objective": "dlmkit.testing.objective_contract",
    "check_metric": "dlmkit.testing.metric_contract",
    "ContractViolation": "dlmkit.testing.objective_contract",
    "check_sampler": "dlmkit.testing.sampler_contract",
    "check_schedule": "dlmkit.testing.schedule_contract",
    "TeacherContexts": "dlmkit.testing.distill_contexts",
    "ToyTeacherParams": "dlmkit.testing.toy_teacher",
    "build_toy_teacher": "dlmkit.testing.toy_teacher",
}

# Imported now: the function shares its module's name, and once the module is imported the package
# attribute would otherwise be the module, not the function.
from dlmkit.testing.temporary_plugin import temporary_plugin as temporary_plugin  # noqa: E402

__all__ = sorted([*_EXPORTS, "temporary_plugin"])


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dlmkit.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

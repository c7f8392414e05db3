"""Which sampler a command uses: one named on the command line, or the usual one for the model.

The teacher's usual sampler is DiffuSeq's full ancestral chain (``T`` steps, 2000 for the
released models).  The student's is the recipe's ``[sampler]`` (``one_step`` with its ``t_init``),
and asking a student for more steps means ``student_multistep`` from the same ``t_init``.
"""

from __future__ import annotations

from typing import Any

import attrs

from dlmkit.errors import UserError
from dlmkit.interfaces import Sampler
from dlmkit.plugins import get_registry
from dlmkit.recipe.schema import ComponentRef, sampler_t_init

TEACHER_DEFAULT = "ancestral"
STUDENT_ONE_STEP = "one_step"
STUDENT_MULTISTEP = "student_multistep"


def _fields(params_class: type | None) -> dict[str, Any]:
    return dict(attrs.fields_dict(params_class)) if params_class is not None and attrs.has(params_class) else {}


def make_sampler(name: str, steps: int | None = None, t_init: int | None = None) -> Sampler:
    """Registered sampler ``name`` with ``steps`` and ``t_init`` set where it has those parameters.

    An unknown name raises ``ComponentNotFound`` with the closest registered name; a step count
    the sampler refuses raises ``UserError`` quoting its reason.
    """
    entry = get_registry().get("sampler", name)
    fields = _fields(entry.params)
    values: dict[str, Any] = {}
    if steps is not None and "steps" in fields:
        values["steps"] = steps
    if t_init is not None and "t_init" in fields:
        values["t_init"] = t_init
    try:
        params = entry.make_params(**values)
    except (ValueError, TypeError) as exc:
        raise UserError(f"sampler '{name}' with steps = {steps}: {exc}") from None
    sampler: Sampler = entry.build(params)
    if steps is not None and "steps" not in fields and sampler.nfe() != steps:
        raise UserError(
            f"sampler '{name}' has no 'steps' parameter (it always makes {sampler.nfe()} network call(s)); "
            f"drop --steps, or pick a sampler with steps (see `dlmkit components sampler`)"
        )
    return sampler


def choose_sampler(
    role: str, name: str | None, steps: int | None, student_sampler: ComponentRef, num_timesteps: int
) -> Sampler:
    """The sampler for ``role`` ("teacher" or "student"): ``name`` if given, else the usual one.

    A named sampler with a ``t_init`` takes the recipe's, for the teacher too: the teacher's one-step
    prediction at that ``t_init`` is the student before distillation.
    """
    if name == TEACHER_DEFAULT and steps is None:
        steps = num_timesteps  # ancestral without a count means every timestep, as DiffuSeq samples
    t_init = sampler_t_init(student_sampler)
    if name is not None:
        return make_sampler(name, steps, t_init)
    if role == "teacher":
        return make_sampler(TEACHER_DEFAULT, steps if steps is not None else num_timesteps)
    if steps is None or (steps == 1 and student_sampler.name == STUDENT_ONE_STEP):
        built: Sampler = get_registry().build("sampler", student_sampler.name, student_sampler.params)
        return built
    if steps == 1:
        return make_sampler(STUDENT_ONE_STEP, None, t_init)
    return make_sampler(STUDENT_MULTISTEP, steps, t_init)


def steps_of(sampler: Sampler) -> int:
    """The step count a sampler was set to (its ``steps`` parameter), else its network calls."""
    steps = getattr(getattr(sampler, "params", None), "steps", None)
    return steps if isinstance(steps, int) else sampler.nfe()


def sampler_name(sampler: Sampler) -> str:
    """The registered name of a built sampler, or its class name when it has none."""
    name = getattr(sampler, "name", None)
    return name if isinstance(name, str) else type(sampler).__name__

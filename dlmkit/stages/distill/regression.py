"""The distill stage's optional regression term, and its default target: the teacher's deterministic DDIM.

Off by default (DLM-One has none).  On, every generator update computes a target from the very input
the student sees (the same noise at ``t_init``) for the first ``pairs`` sequences of the batch, and
adds ``weight`` times the squared distance of the student's output to it
(``dlmkit.objectives.regression``).  ``target = "teacher_path"`` (DMD's) is the end point of the
teacher's unrounded DDIM for ``steps`` steps; ``"start_student"`` is the stage's own starting
student (``dlmkit.stages.distill.start_anchor``).
"""

from __future__ import annotations

from typing import Literal, Protocol, get_args

import attrs
from attrs import validators as v
from torch import Tensor

from dlmkit.errors import UserError
from dlmkit.interfaces import Batch, NoiseSchedule, Scalar, Teacher
from dlmkit.objectives.regression import regression_loss
from dlmkit.samplers.ddim import DDIMParams, DDIMSampler
from dlmkit.samplers.noise import ReplayNoise
from dlmkit.structuring import finite

RegressionTargetName = Literal["teacher_path", "start_student"]
REGRESSION_TARGETS: tuple[str, ...] = get_args(RegressionTargetName)


@attrs.frozen
class RegressionSpec:
    """``[stage.regression]``: weight 0 is off; what it regresses on; ``steps`` DDIM steps from ``t_init``
    (``teacher_path`` only); ``pairs`` per update."""

    weight: float = attrs.field(default=0.0, validator=[finite, v.ge(0.0)])
    target: RegressionTargetName = attrs.field(default="teacher_path", validator=v.in_(REGRESSION_TARGETS))
    steps: int = attrs.field(default=10, validator=[v.instance_of(int), v.ge(1)])
    pairs: int | None = attrs.field(default=None, validator=v.optional([v.instance_of(int), v.gt(0)]))
    """Sequences of each generator batch that get a target (the first ones); unset, all of them."""


def steps_problem(spec: RegressionSpec, t_init: int) -> str | None:
    """Why the DDIM cannot run from ``t_init`` (more steps than timesteps down to 0); None if it can, is off
    or regresses on another target."""
    if spec.weight > 0.0 and spec.target == "teacher_path" and spec.steps > t_init + 1:
        return (
            f"[stage.regression] steps = {spec.steps} exceeds the {t_init + 1} timesteps from t_init {t_init} "
            f"down to 0; set steps to at most {t_init + 1}"
        )
    return None


def pair_count(spec: RegressionSpec, batch: int) -> int:
    """How many sequences of a generator batch of ``batch`` get a target (the first ones)."""
    return batch if spec.pairs is None else min(spec.pairs, batch)


class RegressionTarget(Protocol):
    """A regression target: the term it adds to the generator's loss for one batch."""

    def term(self, cond: Batch, z: Tensor, x_gen: Tensor) -> tuple[Tensor, dict[str, Scalar]]: ...


def weighted_term(
    spec: RegressionSpec, x_gen: Tensor, target: Tensor, mask: Tensor
) -> tuple[Tensor, dict[str, Scalar]]:
    """``weight`` times the regression loss of the first ``len(target)`` outputs, and its unweighted value to log."""
    n = target.shape[0]
    loss = regression_loss(x_gen[:n], target, mask[:n])
    return spec.weight * loss, {"regression": loss.detach()}


class TeacherPathTarget:
    """The teacher's deterministic map from the student's input, and the term it gives (not a Module)."""

    def __init__(self, spec: RegressionSpec, teacher: Teacher, schedule: NoiseSchedule, t_init: int):
        problem = steps_problem(spec, t_init)
        if problem is not None:
            raise UserError(problem)
        self.spec, self.teacher, self.schedule = spec, teacher, schedule
        self.ddim = DDIMSampler(DDIMParams(steps=spec.steps, eta=0.0, round_every_step=False, t_start=t_init))

    def target(self, cond: Batch, z: Tensor) -> Tensor:
        """The teacher's DDIM end point ``[n, L, D]`` for the first ``n`` sequences, from their noise ``z``."""
        n = pair_count(self.spec, len(cond))
        return self.ddim.final_state(self.teacher, cond.slice(0, n), self.schedule, ReplayNoise(z[:n]))

    def term(self, cond: Batch, z: Tensor, x_gen: Tensor) -> tuple[Tensor, dict[str, Scalar]]:
        """``weight`` times the regression loss, and its unweighted value to log."""
        return weighted_term(self.spec, x_gen, self.target(cond, z), cond.input_mask)

"""The ``train_teacher`` stage kind: train (or continue training) the run's teacher."""

from __future__ import annotations

import attrs

from dlmkit.engine.context import RunContext
from dlmkit.interfaces import StageResult, StagesBefore
from dlmkit.interfaces.stage import TEACHER_ARTIFACT
from dlmkit.stages.train_teacher.params import TrainTeacherParams
from dlmkit.stages.train_teacher.runner import TeacherTrainer


@attrs.frozen
class TrainTeacher:
    """Trains ``ctx.teacher`` in place; its EMA weights are the ``teacher`` of every later stage."""

    params: TrainTeacherParams
    produces: frozenset[str] = frozenset({TEACHER_ARTIFACT})

    def check(self, name: str, before: StagesBefore) -> list[str]:
        """Teacher training needs nothing from earlier stages."""
        return []

    def run(self, ctx: RunContext, name: str) -> StageResult:
        return TeacherTrainer(ctx, name, self.params).run("train_teacher")


def build_train_teacher(params: TrainTeacherParams) -> TrainTeacher:
    """Train the teacher (DiffuSeq's loss and timestep sampling by default), keeping its EMA."""
    return TrainTeacher(params)

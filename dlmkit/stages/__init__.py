"""Built-in stage kinds: ``train_teacher`` and ``distill``, registered as a plugin's would be."""

from __future__ import annotations

from dlmkit.hookspecs import Register, hookimpl
from dlmkit.stages.distill import Distill, DistillOptim, DistillStage, build_distill
from dlmkit.stages.optim import OptimSpec
from dlmkit.stages.train_teacher import TrainTeacher, TrainTeacherStage, build_train_teacher

__all__ = [
    "Distill",
    "DistillOptim",
    "DistillStage",
    "OptimSpec",
    "TrainTeacher",
    "TrainTeacherStage",
    "register_stages",
]


@hookimpl
def register_stages(register: Register) -> None:
    register("train_teacher", build_train_teacher, params=TrainTeacherStage)
    register("distill", build_distill, params=DistillStage)

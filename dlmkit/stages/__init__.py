"""Built-in stage kinds: ``train_teacher`` and ``distill``, registered as a plugin's would be."""

from __future__ import annotations

from dlmkit.hookspecs import Register, hookimpl
from dlmkit.stages.distill.params import DistillOptim, DistillParams, DistillStage
from dlmkit.stages.distill.stage import Distill, build_distill
from dlmkit.stages.optim import OptimSpec
from dlmkit.stages.train_teacher.params import TrainTeacherParams, TrainTeacherStage
from dlmkit.stages.train_teacher.stage import TrainTeacher, build_train_teacher

__all__ = [
    "Distill",
    "DistillOptim",
    "DistillParams",
    "DistillStage",
    "OptimSpec",
    "TrainTeacher",
    "TrainTeacherParams",
    "TrainTeacherStage",
    "register_stages",
]


@hookimpl
def register_stages(register: Register) -> None:
    register("train_teacher", build_train_teacher, params=TrainTeacherParams)
    register("distill", build_distill, params=DistillParams)

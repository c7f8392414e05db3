"""The contracts every component satisfies; plugins implement these, the engine only calls these."""

from dlmkit.interfaces.dataset import Batch, Dataset, Tokenizer
from dlmkit.interfaces.injector import ConditioningInjector
from dlmkit.interfaces.metric import Metric
from dlmkit.interfaces.objective import DistillContext, LossOutput, Objective, Scalar
from dlmkit.interfaces.sampler import NoiseSource, OneStepGenerator, Sampler
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.stage import Stage, StageContext, StageResult, StagesBefore
from dlmkit.interfaces.teacher import ContinuousTimeDenoiser, Denoiser, Teacher, TeacherFactory
from dlmkit.interfaces.teacher_loss import TeacherLoss, TimestepSampler

__all__ = [
    "Batch",
    "ConditioningInjector",
    "ContinuousTimeDenoiser",
    "Dataset",
    "Denoiser",
    "DistillContext",
    "LossOutput",
    "Metric",
    "NoiseSchedule",
    "NoiseSource",
    "Objective",
    "OneStepGenerator",
    "Sampler",
    "Scalar",
    "Stage",
    "StageContext",
    "StageResult",
    "StagesBefore",
    "Teacher",
    "TeacherFactory",
    "TeacherLoss",
    "TimestepSampler",
    "Tokenizer",
]

"""The contracts every component satisfies; plugins implement these, the engine only calls these."""

from dlmkit.interfaces.dataset import Batch, Dataset, Tokenizer
from dlmkit.interfaces.injector import ConditioningInjector
from dlmkit.interfaces.metric import Metric
from dlmkit.interfaces.objective import DistillContext, LossOutput, Objective
from dlmkit.interfaces.sampler import NoiseSource, Sampler
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.teacher import Denoiser, Teacher

__all__ = [
    "Batch",
    "ConditioningInjector",
    "Dataset",
    "Denoiser",
    "DistillContext",
    "LossOutput",
    "Metric",
    "NoiseSchedule",
    "NoiseSource",
    "Objective",
    "Sampler",
    "Teacher",
    "Tokenizer",
]

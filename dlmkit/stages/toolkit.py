"""The public toolkit for writing a stage kind: what the built-in kinds are made of.

Import from here, ``dlmkit.interfaces`` and ``dlmkit.plugins`` (not from the modules behind them) in a
plugin: these names are the stable surface.  A stage receives a ``StageContext`` (the run's built
components, its runtime and folders); ``run_steps`` runs a ``StepRunner`` to its step count with
resume, logging, validation, checkpoints, a deadline and the stop signals handled; ``save_teacher``
writes a network as a teacher file later stages and ``dlmkit generate`` can load.
"""

from __future__ import annotations

from dlmkit.engine.step_loop import LoopEnd, LoopSettings, RunningMeans, StepRunner, run_steps
from dlmkit.interfaces.stage import StageContext, StageResult, StagesBefore
from dlmkit.interfaces.teacher import as_module
from dlmkit.samplers.noise import ReplayNoise, SeededNoise
from dlmkit.samplers.one_step import OneStepParams, OneStepSampler
from dlmkit.storage.teacher_files import load_teacher, save_teacher

__all__ = [
    "LoopEnd",
    "LoopSettings",
    "OneStepParams",
    "OneStepSampler",
    "ReplayNoise",
    "RunningMeans",
    "SeededNoise",
    "StageContext",
    "StageResult",
    "StagesBefore",
    "StepRunner",
    "as_module",
    "load_teacher",
    "run_steps",
    "save_teacher",
]

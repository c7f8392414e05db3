"""Which points a bench measures: the loaded models, and the teacher ladder and student steps planned from them."""

from __future__ import annotations

from typing import Any

import attrs
import torch

from dlmkit.errors import UserError
from dlmkit.evaluation.bench_config import (
    BenchConfig,
)
from dlmkit.inference.sampler_choice import STUDENT_ONE_STEP, choose_sampler, make_sampler, sampler_name
from dlmkit.interfaces import Dataset, Denoiser, NoiseSchedule, Sampler
from dlmkit.plugins import get_registry
from dlmkit.recipe.schema import ComponentRef, sampler_t_init


@attrs.define
class BenchModels:
    """The loaded models and what they sample with."""

    teacher: Denoiser
    student: Denoiser | None
    student_sampler: ComponentRef
    schedule: NoiseSchedule
    dataset: Dataset
    device: torch.device


@attrs.define
class Planned:
    """One point to measure."""

    model: str
    sampler: Sampler
    steps: int

    @property
    def name(self) -> str:
        return sampler_name(self.sampler)

    @property
    def stem(self) -> str:
        return f"{self.model}_{self.name}_step{self.steps}"

    @property
    def label(self) -> str:
        return f"{self.model} {self.name} {self.steps} step{'s' if self.steps != 1 else ''}"


def plan_points(config: BenchConfig, models: BenchModels) -> tuple[list[Planned], list[dict[str, Any]]]:
    """Teacher samplers over the ladder, then the student; steps a sampler refuses are skipped, with why."""
    registry = get_registry()
    for name in config.samplers:
        registry.get("sampler", name)  # an unknown name fails here, before anything runs
    total = models.schedule.num_timesteps
    t_init = sampler_t_init(models.student_sampler)
    points: list[Planned] = []
    skipped: list[dict[str, Any]] = []
    for name in config.samplers:
        for steps in config.teacher_steps:
            if steps > total:
                reason = f"more steps than the schedule's {total} timesteps"
                skipped.append({"model": "teacher", "sampler": name, "steps": steps, "reason": reason})
                continue
            try:
                points.append(Planned("teacher", make_sampler(name, steps, t_init), steps))
            except UserError as exc:
                skipped.append({"model": "teacher", "sampler": name, "steps": steps, "reason": str(exc)})
    planned = {(p.name, p.steps) for p in points}
    if config.control and models.student is not None and (STUDENT_ONE_STEP, 1) not in planned:
        points.append(Planned("teacher", make_sampler(STUDENT_ONE_STEP, None, t_init), 1))
    for steps in config.student_steps:
        if models.student is None:
            skipped.append({"model": "student", "sampler": "", "steps": steps, "reason": "no student in this source"})
            continue
        try:
            sampler = choose_sampler("student", None, steps, models.student_sampler, total)
        except UserError as exc:
            skipped.append({"model": "student", "sampler": "", "steps": steps, "reason": str(exc)})
            continue
        points.append(Planned("student", sampler, steps))
    return points, skipped

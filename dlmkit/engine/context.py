"""What every stage runner receives: the built components, the run folder, the runtime."""

from __future__ import annotations

from pathlib import Path

import attrs

from dlmkit.engine.runtime import Runtime
from dlmkit.interfaces import ConditioningInjector, Dataset, NoiseSchedule, Sampler, StageResult, Teacher
from dlmkit.recipe.schema import Recipe
from dlmkit.storage.run_layout import RunFolder


@attrs.define
class RunContext:
    """Built once per run and handed to each stage."""

    recipe: Recipe
    folder: RunFolder
    runtime: Runtime
    dataset: Dataset
    schedule: NoiseSchedule
    injector: ConditioningInjector
    sampler: Sampler
    teacher: Teacher | None
    progress_mode: str
    resume: bool
    results: dict[str, StageResult] = attrs.field(factory=dict)

    @property
    def run_dir(self) -> Path:
        return self.folder.root

    def stage_dir(self, name: str) -> Path:
        return self.folder.stage_dir(name)

    def ckpt_dir(self, name: str) -> Path:
        return self.folder.ckpt_dir(name)

    @property
    def metrics_log(self) -> Path:
        return self.folder.metrics_log

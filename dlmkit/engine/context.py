"""What every stage runner receives: the built components, the run folder, the runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from dlmkit.engine.runtime import Runtime
from dlmkit.interfaces import ConditioningInjector, Dataset, NoiseSchedule, Sampler, Teacher
from dlmkit.recipe.schema import Recipe


@attrs.define
class StageResult:
    """Files a finished stage leaves for later stages, and its summary metrics."""

    teacher: Path | None = None
    student: Path | None = None
    psi: Path | None = None
    summary: dict[str, Any] = attrs.field(factory=dict)


@attrs.define
class RunContext:
    """Built once per run and handed to each stage."""

    recipe: Recipe
    run_dir: Path
    runtime: Runtime
    dataset: Dataset
    schedule: NoiseSchedule
    injector: ConditioningInjector
    sampler: Sampler
    teacher: Teacher | None
    progress_mode: str
    resume: bool
    results: dict[str, StageResult] = attrs.field(factory=dict)

    def stage_dir(self, name: str) -> Path:
        """``RUN/NAME``; recipes allow only slug names, and this refuses anything that would leave the run."""
        path = self.run_dir / name
        if path.resolve().parent != self.run_dir.resolve():
            raise ValueError(f"stage name {name!r} would write outside the run folder {self.run_dir}")
        return path

    @property
    def metrics_log(self) -> Path:
        return self.run_dir / "metrics.jsonl"

"""The stage-kind contract: what one ``[[stage]]`` table of a recipe runs.

A stage kind is registered like any component (``register_stages``): a params class for its
table and a factory that binds the params to a ``Stage``.  The engine builds it, calls ``check``
while the recipe is validated, and ``run`` when its turn comes; a stage leaves named artifacts
(files later stages and the final evaluation read) and a summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from dlmkit.interfaces.dataset import Dataset
from dlmkit.interfaces.injector import ConditioningInjector
from dlmkit.interfaces.sampler import Sampler
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.teacher import Teacher

if TYPE_CHECKING:
    from dlmkit.registry import Registry

#: Artifact names the engine itself reads: a ``teacher`` becomes the teacher of every later stage
#: (and of the final evaluation); the last ``student`` is the model the final evaluation scores.
TEACHER_ARTIFACT = "teacher"
STUDENT_ARTIFACT = "student"


@attrs.define
class StageResult:
    """What a stage leaves: named files (``teacher``, ``student``, ``psi``, ... ) and summary metrics.

    ``summary["complete"]`` is false when the stage stopped early (its time ran out); ``--resume``
    continues it.
    """

    artifacts: dict[str, Path] = attrs.field(factory=dict)
    summary: dict[str, Any] = attrs.field(factory=dict)

    @property
    def complete(self) -> bool:
        return bool(self.summary.get("complete", True))

    @classmethod
    def stopped(cls, steps: int) -> StageResult:
        """A stage that stopped after ``steps`` steps (its time ran out); ``--resume`` continues it."""
        return cls(summary={"steps": steps, "complete": False})


@attrs.frozen
class StagesBefore:
    """What a stage's ``check`` may know about the recipe while it is validated."""

    artifacts: Mapping[str, frozenset[str]]
    """Each earlier stage's name and the artifacts its kind leaves, in recipe order."""
    has_teacher: bool | None
    """A teacher exists before this stage ([teacher] checkpoint or an earlier ``teacher`` artifact);
    ``None`` when earlier tables were invalid and it cannot be told."""
    registry: Registry
    sampler: Any = None
    """The recipe's ``[sampler]``, built; ``None`` when its table is invalid (reported on its own)."""


class StageContext(Protocol):
    """What a stage may use of the run it is part of (the engine's ``RunContext`` is one).

    The built components of the recipe, the recipe itself (``recipe``: every table, resolved), the
    runtime (``runtime.device``, ``runtime.world``, ``runtime.autocast()``), the results of the stages
    before it, and where it may write (``stage_dir``).
    """

    recipe: Any
    runtime: Any
    dataset: Dataset
    schedule: NoiseSchedule
    injector: ConditioningInjector
    sampler: Sampler
    teacher: Teacher | None
    progress_mode: str
    resume: bool
    results: dict[str, StageResult]

    @property
    def run_dir(self) -> Path: ...

    @property
    def metrics_log(self) -> Path: ...

    def stage_dir(self, name: str) -> Path:
        """``RUN/NAME``, the only folder a stage writes in."""
        ...

    def ckpt_dir(self, name: str) -> Path:
        """``RUN/NAME/ckpt``, where ``run_steps`` keeps the stage's checkpoints."""
        ...


@runtime_checkable
class Stage(Protocol):
    """A stage kind bound to one table's parameters."""

    produces: frozenset[str]
    """The artifacts a finished run of this stage leaves (checked against later stages' references)."""

    def check(self, name: str, before: StagesBefore) -> list[str]:
        """Problems with this stage given the stages before it (``[]`` when none); run by ``validate``."""
        ...

    def run(self, ctx: StageContext, name: str) -> StageResult:
        """Run the stage named ``name`` (resuming from its checkpoints when ``ctx.resume``)."""
        ...

"""Every hook a dlmkit plugin may implement.

Registration hooks receive a ``register`` callback owned by the host (the simonw/llm pattern):
``register(name, factory, params=ParamsClass, summary="...")``.  ``params`` is a frozen attrs
class; a recipe table naming the component is checked against it, and the factory receives an
instance.  Every factory takes its params first, plus its kind's build context: teachers
``factory(params, vocab_size=..., seq_len=..., tokens=...)`` (``tokens``: the tokenizer's token
strings in id order, for initialising embeddings from pretrained tables; ``None`` when a checkpoint
is rebuilt), timestep samplers ``factory(params, num_timesteps=...)``, every other kind
``factory(params)``.  The kinds and their interfaces are listed once, in ``dlmkit.registry.KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import click
import pluggy

if TYPE_CHECKING:
    from dlmkit.interfaces import Teacher

hookspec = pluggy.HookspecMarker("dlmkit")
hookimpl = pluggy.HookimplMarker("dlmkit")


class Register(Protocol):
    """The callback registration hooks receive."""

    def __call__(
        self,
        name: str,
        factory: Callable[..., object],
        params: type | None = None,
        summary: str = "",
        override: bool = False,
    ) -> None: ...


@hookspec
def register_teachers(register: Register) -> None:
    """Register teacher networks (the factory is a ``dlmkit.interfaces.TeacherFactory``)."""


@hookspec
def register_schedules(register: Register) -> None:
    """Register noise schedules (factory ``(params) -> NoiseSchedule``)."""


@hookspec
def register_objectives(register: Register) -> None:
    """Register distillation objectives (factory ``(params) -> Objective``)."""


@hookspec
def register_injectors(register: Register) -> None:
    """Register conditioning injectors (factory ``(params) -> ConditioningInjector``)."""


@hookspec
def register_samplers(register: Register) -> None:
    """Register samplers (factory ``(params) -> Sampler``)."""


@hookspec
def register_metrics(register: Register) -> None:
    """Register metrics (factory ``(params) -> Metric``)."""


@hookspec
def register_datasets(register: Register) -> None:
    """Register datasets (factory ``(params) -> Dataset``)."""


@hookspec
def register_stages(register: Register) -> None:
    """Register stage kinds: ``params`` is the ``[[stage]]`` table, the factory ``(params) -> Stage``."""


@hookspec
def register_teacher_losses(register: Register) -> None:
    """Register teacher-training losses (factory ``(params) -> TeacherLoss``)."""


@hookspec
def register_timestep_samplers(register: Register) -> None:
    """Register teacher-training timestep samplers (factory ``(params, num_timesteps) -> TimestepSampler``)."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add Click commands or groups to the ``dlmkit`` command line."""


@hookspec(firstresult=True)
def load_teacher_checkpoint(path: Path) -> Teacher | None:
    """Load a teacher from a file format this plugin owns (for example an official ``.pt``).

    Return ``None`` when the file is not yours; the first non-``None`` answer wins.
    """


@hookspec
def on_stage_start(stage: str, kind: str, run_dir: Path, config: dict[str, Any]) -> None:
    """A stage is about to train.  Observers only: raising here stops the run."""


@hookspec
def on_log(stage: str, step: int, metrics: dict[str, float]) -> None:
    """Scalars logged at ``step`` of ``stage`` (losses, validation BLEU, steps/s, ...)."""


@hookspec
def on_stage_end(stage: str, kind: str, run_dir: Path, summary: dict[str, Any]) -> None:
    """A stage finished; ``summary`` holds its final and best metrics."""

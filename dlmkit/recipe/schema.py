"""The recipe as frozen attrs classes: what ``dlmkit show`` prints and what the engine runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import attrs
from attrs import validators as v

from dlmkit.structuring import path_field, stage_name

SCHEMA_VERSION = 1


#: The metrics scored when none are named: by ``[eval]``, ``dlmkit eval`` and ``dlmkit bench``.
DEFAULT_METRICS: tuple[str, ...] = ("bleu", "rouge_l", "dist1", "avg_len")

#: A seed every random library accepts (NumPy's limit is the smallest: 32 bits).
SEED_RULE = [v.ge(0), v.le(2**32 - 1)]


#: The recipe's one-component tables, in recipe order, and the component kind each names.
KIND_OF_TABLE = {"data": "dataset", "schedule": "schedule", "injector": "injector", "sampler": "sampler"}
#: The component each of those tables takes when the recipe leaves it out.
DEFAULT_COMPONENTS = {
    "data": "diffuseq_jsonl",
    "schedule": "sqrt",
    "injector": "replace_condition",
    "sampler": "one_step",
}


def sampler_t_init(sampler: Any) -> int | None:
    """The ``t_init`` a ``[sampler]`` reference sets (``None`` for samplers without one, or a missing table)."""
    value = getattr(getattr(sampler, "params", None), "t_init", None)
    return value if isinstance(value, int) else None


@attrs.frozen
class ComponentRef:
    """A component picked by ``name`` with its parameters (an instance of its params class)."""

    kind: str
    name: str
    params: Any


@attrs.frozen
class TeacherRef:
    """The teacher: a registered architecture, optionally loaded from ``checkpoint``.

    With a checkpoint (dlmkit safetensors or an official DiffuSeq file) the sizes come from the
    checkpoint, so the table may not also set architecture parameters.
    """

    name: str
    checkpoint: str | None
    params: Any


@attrs.frozen
class StageSpec:
    """One ``[[stage]]`` table: its name (its folder in the run), its registered kind and that kind's params."""

    name: str = attrs.field(validator=stage_name)
    kind: str
    params: Any = None


@attrs.frozen
class RecipeHeader:
    """Top-level keys of a recipe."""

    schema_version: int = attrs.field(validator=v.in_([SCHEMA_VERSION]))
    name: str = attrs.field(validator=v.matches_re(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"))
    description: str = ""
    seed: int = attrs.field(default=0, validator=SEED_RULE)
    output_dir: str | None = path_field(default=None)
    requires: list[str] = attrs.field(factory=list)


@attrs.frozen
class RuntimeSpec:
    """Where and how to run: device, precision, threads, progress display."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["fp32", "bf16", "fp16", "auto"] = "fp32"
    """``auto`` takes bf16 only where it is fast (CUDA, or a CPU with native bf16), else fp32."""
    threads: int | None = attrs.field(default=None, validator=v.optional([v.ge(1), v.le(1024)]))
    tf32: bool = False
    compile: bool = False
    progress: Literal["auto", "on", "off"] = "auto"
    deterministic: bool = False


#: Each seed samples the whole evaluation again; past this a typo would run for days.
MAX_SEEDS = 100


@attrs.frozen
class EvalSpec:
    """Final evaluation of the trained models on a split."""

    split: Literal["valid", "test"] = "test"
    num_samples: int | None = attrs.field(default=None, validator=v.optional(v.gt(0)))
    batch_size: int = attrs.field(default=64, validator=v.gt(0))
    metrics: list[str] = attrs.field(factory=lambda: list(DEFAULT_METRICS))
    teacher_sampler: str | None = None
    teacher_steps: int | None = attrs.field(default=None, validator=v.optional(v.gt(0)))
    seed: int = attrs.field(default=0, validator=SEED_RULE)
    seeds: int = attrs.field(default=1, validator=[v.gt(0), v.le(MAX_SEEDS)])
    """Samples per source; diversity metrics (self_bleu, div4) need more than one (each is a full sampling)."""
    teacher_outputs: list[str] | None = path_field(default=None)
    """Precomputed teacher output files (one per seed, DiffuSeq format) for the first sources of the split."""
    timing_batch: int = attrs.field(default=4, validator=v.gt(0))
    """Sources timed with both models at the same batch size, for the speed-up."""
    full_split: bool = False
    """Also score the student (one sample per source) on the whole split."""
    initial_student: bool = False
    """Also score the undistilled student (the network the first distill stage starts from, through the
    recipe's sampler) as ``student_initial``."""
    teacher_unrounded: bool = False
    """Also score the teacher's sampler without its per-step rounding as ``teacher_unrounded``: the
    distribution score distillation matches (a sampler without a ``rounding`` key is refused)."""


@attrs.frozen
class Recipe:
    """A whole, validated recipe."""

    source: Path
    header: RecipeHeader
    data: ComponentRef
    teacher: TeacherRef
    schedule: ComponentRef
    injector: ComponentRef
    sampler: ComponentRef
    runtime: RuntimeSpec
    eval: EvalSpec | None
    stages: tuple[StageSpec, ...]
    raw: dict[str, Any]

    @property
    def name(self) -> str:
        return self.header.name

    @property
    def t_init(self) -> int | None:
        """The one ``t_init`` of the recipe: its ``[sampler]``'s, which distill stages take unless they set it."""
        return sampler_t_init(self.sampler)

    def stage(self, name: str) -> StageSpec:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

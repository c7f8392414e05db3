"""The ``distill`` table's parameters, and the names a distill stage gives what it leaves and how it keeps."""

from __future__ import annotations

import math
from typing import Any, Literal

import attrs
from attrs import validators as v

from dlmkit.objectives.time_law import TIME_LAWS, TimeLaw
from dlmkit.stages.distill.regression import RegressionSpec
from dlmkit.stages.optim import OptimSpec
from dlmkit.structuring import component_field, finite, path_field

#: The artifact a distill stage leaves besides its student: psi (with its discriminator head beside it).
PSI_ARTIFACT = "psi"

#: The ``val_metric`` that keeps the student the teacher denoises best (lower is better), read off the
#: model rather than its text, so it is a validation metric only, not one of ``dlmkit eval``'s.
TEACHER_ERROR = "teacher_error"


def _positive_or_unset(instance: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"'{attribute.name}' must be a finite number > 0, or left out; got {value}")


@attrs.frozen
class DistillOptim:
    """One optimiser per trained network (paper: AdamW with beta1 = 0)."""

    psi: OptimSpec = attrs.field(factory=lambda: OptimSpec(lr=1e-5, betas=[0.0, 0.999]))
    generator: OptimSpec = attrs.field(factory=lambda: OptimSpec(lr=1e-5, betas=[0.0, 0.999]))
    head_lr: float | None = attrs.field(default=None, validator=v.optional([finite, v.ge(0.0)]))
    """Learning rate of psi's discriminator head (psi's other settings apply); unset: psi's ``lr``.

    The head starts at zero and sees only the adversarial loss, so it can need a larger rate than psi's trunk.
    """


@attrs.frozen
class DistillParams:
    """A ``distill`` table: one DLM-One stage of alternating psi and generator updates."""

    objective: Any = component_field("objective")
    steps: int = attrs.field(default=1000, validator=v.gt(0))
    batch_size: int = attrs.field(default=64, validator=v.gt(0))
    init_student: str = "teacher"
    init_psi: Literal["teacher", "previous"] = "teacher"
    student_from: str | None = path_field(default=None)
    """A teacher file the student starts from instead of the teacher (when ``init_student`` is "teacher"):
    for a teacher that is no network of its own, such as an exact one."""
    psi_from: str | None = path_field(default=None)
    """A teacher file psi starts from instead of the teacher (when ``init_psi`` is "teacher")."""
    t_init: int | None = attrs.field(default=None, validator=v.optional(v.ge(0)))
    """Where the one-step generator starts; unset, it is the recipe's ``[sampler] t_init`` (one value, one place)."""
    t_min: int = attrs.field(default=0, validator=v.ge(0))
    t_max: int = attrs.field(default=1976, validator=v.ge(0))
    optim: DistillOptim = attrs.field(factory=DistillOptim)
    max_grad_norm: float | None = attrs.field(default=None, validator=v.optional([finite, v.gt(0.0)]))
    ema_decay: float = attrs.field(default=0.999, validator=[v.ge(0.0), v.lt(1.0)])
    max_bad_steps: int = attrs.field(default=20, validator=v.gt(0))
    psi_warmup_steps: int = attrs.field(default=0, validator=v.ge(0))
    fp32_scores: bool = True
    """Run the teacher and psi in fp32 inside the generator's loss under a bf16/fp16 autocast."""
    log_every: int = attrs.field(default=50, validator=v.gt(0))
    eval_every: int = attrs.field(default=200, validator=v.ge(0))
    eval_samples: int = attrs.field(default=256, validator=v.gt(0))
    val_sampler: str = "one_step"
    """The sampler validation generates with; one with a ``t_init`` parameter starts at the stage's."""
    val_metric: str = "bleu"
    """The metric validation reports and the kept ("best") student is chosen by, in its own direction;
    ``teacher_error`` keeps the student whose outputs the teacher denoises best."""
    val_also: list[str] = attrs.field(factory=list)
    """More metrics each validation logs (``val_NAME``) on the same outputs, read but never kept by: an
    instrument, such as ``mode_tv`` beside ``validity`` on the proof task (a student can stay valid while it
    drops modes)."""
    real_pairs: Literal["independent", "same_source"] = "independent"
    """The real pairs of an adversarial objective: drawn independently of the generated ones (SiDA, DMD2),
    or the training targets of the same sources, so each real/generated pair shares its condition."""
    time_law: TimeLaw = attrs.field(default="uniform", validator=v.in_(TIME_LAWS))
    """How training draws its noise levels in ``[t_min, t_max]``: ``uniform``, or SiD-EDM's low-noise-heavy
    ``karras``."""
    scale_penalty: float = attrs.field(default=0.0, validator=[finite, v.ge(0.0)])
    """Weight of an optional hold on the output scale: mean ``relu(||x_g|| - max_k ||e_k||)^2`` over target
    tokens, added to the generator's loss.  Off (0) by default: DLM-One has none."""
    repeat_penalty: float = attrs.field(default=0.0, validator=[finite, v.ge(0.0)])
    """Weight of an optional unlikelihood term against repeated adjacent tokens: the chance, under the
    teacher's logits of the output, that two adjacent target positions write the same word
    (``dlmkit.objectives.repeat_penalty``), added to the generator's loss.  Off (0) by default: DLM-One has none."""
    regression: RegressionSpec = attrs.field(factory=RegressionSpec)
    """The optional regression term on the teacher's deterministic map from ``t_init`` (DMD's); off by default."""
    keep_max_teacher_error: float | None = attrs.field(default=2.0, validator=_positive_or_unset)
    """The kept-student rule: a validation whose teacher error exceeds this many times the stage's first
    is never kept, whatever its metric (a student off the embeddings' scale can still round well).
    A very large value keeps by the metric alone."""
    ckpt_every: int = attrs.field(default=0, validator=v.ge(0))
    max_minutes: float | None = attrs.field(default=None, validator=v.optional([finite, v.gt(0.0)]))

    def __attrs_post_init__(self) -> None:
        if self.t_min >= self.t_max:
            raise ValueError(
                f"'t_min' ({self.t_min}) must be below 't_max' ({self.t_max}): a student distilled at one noise "
                "level learns nothing of the others (Table 5: t in [0, 1976])"
            )
        if self.psi_warmup_steps >= self.steps:
            raise ValueError(
                f"'psi_warmup_steps' ({self.psi_warmup_steps}) must be smaller than 'steps' ({self.steps}), "
                "or the generator never trains"
            )


#: The old name of ``DistillParams`` (it named a params class as if it were the stage); kept for plugins.
DistillStage = DistillParams


def one_step_problem(sampler: object) -> str:
    """Why ``sampler`` cannot be a distill stage's generator (it has no ``generate``)."""
    name = getattr(sampler, "name", type(sampler).__name__)
    return (
        f"the recipe's [sampler] '{name}' has no one-step path (a 'generate' method), and a distill stage trains "
        'its student through it; use [sampler] name = "one_step", or "student_multistep" to sample the student '
        "in several steps"
    )

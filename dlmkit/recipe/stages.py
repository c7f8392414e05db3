"""Stage kinds a recipe's ``[[stage]]`` entries may use, each a frozen attrs class.

``kind`` picks the class; the engine maps the same kind to its runner.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs
from attrs import validators as v

from dlmkit.recipe.structure import component_field, finite, path_field, stage_name


@attrs.frozen
class OptimSpec:
    """AdamW settings for one network."""

    lr: float = attrs.field(validator=[finite, v.ge(0.0)])
    """Learning rate; 0 freezes the network (the proof's negative control sets psi's to 0)."""
    betas: list[float] = attrs.field(
        factory=lambda: [0.9, 0.999], validator=v.deep_iterable(v.and_(v.ge(0.0), v.lt(1.0)))
    )
    weight_decay: float = attrs.field(default=0.0, validator=[finite, v.ge(0.0)])
    eps: float = attrs.field(default=1e-8, validator=[finite, v.gt(0.0)])
    clip_grad_value: float | None = attrs.field(default=None, validator=v.optional([finite, v.gt(0.0)]))
    """Clamp every gradient element to ``[-value, value]`` before the step (SiDA: 1 on psi); none by default."""

    def __attrs_post_init__(self) -> None:
        if len(self.betas) != 2:
            raise ValueError(f"'betas' must hold two numbers, got {self.betas}")


@attrs.frozen
class TrainTeacherStage:
    """Train (or continue training) the teacher with DiffuSeq's own loss."""

    name: str = attrs.field(validator=stage_name)
    kind: Literal["train_teacher"] = "train_teacher"
    steps: int = attrs.field(default=1000, validator=v.gt(0))
    batch_size: int = attrs.field(default=64, validator=v.gt(0))
    microbatch: int | None = attrs.field(default=None, validator=v.optional(v.gt(0)))
    lr: float = attrs.field(default=1e-4, validator=[finite, v.gt(0.0)])
    weight_decay: float = attrs.field(default=0.0, validator=[finite, v.ge(0.0)])
    lr_schedule: Literal["linear", "constant", "cosine"] = "linear"
    warmup_steps: int = attrs.field(default=0, validator=v.ge(0))
    ema_decay: float = attrs.field(default=0.9999, validator=[v.ge(0.0), v.lt(1.0)])
    timestep_sampler: Literal["uniform", "lossaware"] = "uniform"
    max_grad_norm: float | None = attrs.field(default=None, validator=v.optional([finite, v.gt(0.0)]))
    log_every: int = attrs.field(default=50, validator=v.gt(0))
    eval_every: int = attrs.field(default=0, validator=v.ge(0))
    eval_batches: int = attrs.field(default=4, validator=v.gt(0))
    ckpt_every: int = attrs.field(default=0, validator=v.ge(0))
    max_minutes: float | None = attrs.field(default=None, validator=v.optional([finite, v.gt(0.0)]))
    init_from: str | None = path_field(default=None)
    """A dlmkit teacher file whose weights start the training (continue an earlier run's teacher)."""


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
class DistillStage:
    """One DLM-One distillation stage: alternating psi and generator updates."""

    name: str = attrs.field(validator=stage_name)
    objective: Any = component_field("objective")
    kind: Literal["distill"] = "distill"
    steps: int = attrs.field(default=1000, validator=v.gt(0))
    batch_size: int = attrs.field(default=64, validator=v.gt(0))
    init_student: str = "teacher"
    init_psi: Literal["teacher", "previous"] = "teacher"
    t_init: int = attrs.field(default=1490, validator=v.ge(0))
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
    val_metric: str = "bleu"
    """The metric validation reports and the kept ("best") student is chosen by, in its own direction."""
    ckpt_every: int = attrs.field(default=0, validator=v.ge(0))
    max_minutes: float | None = attrs.field(default=None, validator=v.optional([finite, v.gt(0.0)]))

    def __attrs_post_init__(self) -> None:
        if self.t_min > self.t_max:
            raise ValueError(f"'t_min' ({self.t_min}) must not exceed 't_max' ({self.t_max})")
        if self.psi_warmup_steps >= self.steps:
            raise ValueError(
                f"'psi_warmup_steps' ({self.psi_warmup_steps}) must be smaller than 'steps' ({self.steps}), "
                "or the generator never trains"
            )


STAGE_KINDS: dict[str, type] = {"train_teacher": TrainTeacherStage, "distill": DistillStage}

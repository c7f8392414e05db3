"""The ``train_teacher`` table's parameters."""

from __future__ import annotations

from typing import Any, Literal

import attrs
from attrs import validators as v

from dlmkit.recipe.schema import ComponentRef
from dlmkit.stages.optim import check_decay
from dlmkit.structuring import component_field, finite, path_field


@attrs.frozen
class TrainTeacherParams:
    """A ``train_teacher`` table: train (or continue training) the teacher, DiffuSeq's way by default."""

    steps: int = attrs.field(default=1000, validator=v.gt(0))
    batch_size: int = attrs.field(default=64, validator=v.gt(0))
    microbatch: int | None = attrs.field(default=None, validator=v.optional(v.gt(0)))
    lr: float = attrs.field(default=1e-4, validator=[finite, v.gt(0.0)])
    weight_decay: float = attrs.field(
        default=0.0, validator=[finite, v.ge(0.0), lambda obj, _, value: check_decay(obj.lr, value)]
    )
    lr_schedule: Literal["linear", "constant", "cosine"] = "linear"
    warmup_steps: int = attrs.field(default=0, validator=v.ge(0))
    ema_decay: float = attrs.field(default=0.9999, validator=[v.ge(0.0), v.lt(1.0)])
    timestep_sampler: Any = component_field(
        "timestep_sampler", default=ComponentRef("timestep_sampler", "uniform", None)
    )
    """Which timesteps a batch sees (``"uniform"`` or DiffuSeq's ``"lossaware"``; any registered one)."""
    loss: Any = component_field("teacher_loss", default=ComponentRef("teacher_loss", "diffuseq", None))
    """The training loss (DiffuSeq's by default; any registered ``teacher_loss``)."""
    max_grad_norm: float | None = attrs.field(default=None, validator=v.optional([finite, v.gt(0.0)]))
    log_every: int = attrs.field(default=50, validator=v.gt(0))
    eval_every: int = attrs.field(default=0, validator=v.ge(0))
    eval_batches: int = attrs.field(default=4, validator=v.gt(0))
    ckpt_every: int = attrs.field(default=0, validator=v.ge(0))
    max_minutes: float | None = attrs.field(default=None, validator=v.optional([finite, v.gt(0.0)]))
    init_from: str | None = path_field(default=None)
    """A dlmkit teacher file whose weights start the training (continue an earlier run's teacher)."""


#: The old name of ``TrainTeacherParams``; kept for plugins.
TrainTeacherStage = TrainTeacherParams

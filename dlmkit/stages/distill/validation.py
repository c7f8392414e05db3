"""Validation of a distillation stage, and the kept ("best") student it chooses.

Generates from the validation sources with the stage's ``val_sampler``, scores ``val_metric`` in its
own direction, logs degeneration signals and the teacher-error proxy, and saves the student, psi and
the discriminator head whenever the metric improves, unless the teacher's error on the student has
grown past ``keep_max_teacher_error`` times the stage's first reading (the student left the table's
scale, which a rounding metric cannot see).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlmkit.engine.context import RunContext
from dlmkit.errors import UserError
from dlmkit.inference.generation import degeneration, generate, score, special_ids
from dlmkit.inference.sampler_choice import make_sampler
from dlmkit.interfaces import Metric, OneStepGenerator
from dlmkit.objectives.discriminator import HEAD_FILE
from dlmkit.plugins import build
from dlmkit.stages.distill.params import TEACHER_ERROR
from dlmkit.stages.distill.state import DistillState
from dlmkit.stages.distill.teacher_error import teacher_denoising_error
from dlmkit.storage.checkpoint import save_module
from dlmkit.storage.teacher_files import save_teacher

if TYPE_CHECKING:
    from dlmkit.stages.distill.params import DistillParams

#: Sources whose teacher error is measured at each validation (a proxy, so a slice is enough).
TEACHER_ERROR_SOURCES = 64


class DistillValidator:
    """Scores the student as validated and kept, and saves it when it is the best so far."""

    def __init__(
        self,
        ctx: RunContext,
        name: str,
        stage: DistillParams,
        state: DistillState,
        generator: OneStepGenerator,
        t_init: int,
        best: Path,
    ):
        self.ctx, self.name, self.stage, self.state, self.generator = ctx, name, stage, state, generator
        self.best_dir = best
        self.sampler = make_sampler(stage.val_sampler, t_init=t_init)  # a t_init starts it where training did
        # every metric scored on the outputs, each built once: the kept-by one (teacher_error scores the model,
        # not its text, so it is read off the proxy computed below) and the logged-only ``val_also``
        kept_by = [] if stage.val_metric == TEACHER_ERROR else [stage.val_metric]
        self.metrics: dict[str, Metric] = {m: build("metric", m) for m in dict.fromkeys([*kept_by, *stage.val_also])}
        self.metric = self.metrics.get(stage.val_metric)
        self.sign = 1.0 if self.metric is not None and self.metric.higher_is_better else -1.0
        for other in stage.val_also:
            if self.metrics[other].needs_candidates:
                raise UserError(
                    f"[[stage]] \"{name}\" 'val_also': '{other}' compares several samplings of each source, and "
                    "validation draws one; use it in [eval] metrics"
                )
        self.best_score = -math.inf
        self.start_error: float | None = None

    @property
    def best(self) -> float:
        """The best value of ``val_metric`` so far, in its own units."""
        return self.sign * self.best_score

    def validate(self, step: int) -> dict[str, float]:
        ctx, device = self.ctx, self.ctx.runtime.device
        split = "valid" if ctx.dataset.has_split("valid") else "train"
        data = ctx.dataset.split(split).slice(0, self.stage.eval_samples)
        model = self.state.eval_model()
        was = model.training
        model.eval()
        out = generate(model, self.sampler, ctx.schedule, ctx.dataset, data, 256, 0, device)
        teacher_error = teacher_denoising_error(
            self.state.teacher,
            model,
            self.generator,
            ctx.schedule,
            ctx.injector,
            data.slice(0, TEACHER_ERROR_SOURCES),
            device,
        )
        model.train(was)
        tok = ctx.dataset.tokenizer
        signals = degeneration(out.ids, data.input_mask, tok.pad_id, special_ids(tok))
        name = self.stage.val_metric
        scores = score(out.rows, self.metrics)
        value = teacher_error if self.metric is None else scores[name]
        if self.start_error is None:
            self.start_error = teacher_error
        ratio = teacher_error / self.start_error if self.start_error > 0 else 1.0
        limit = self.stage.keep_max_teacher_error
        finite = math.isfinite(teacher_error) and math.isfinite(value)  # a NaN student is never kept
        keepable = finite and (limit is None or ratio <= limit)
        if keepable and self.sign * value > self.best_score:
            self.best_score = self.sign * value
            self.save_best(step)
        return {
            f"val_{name}": value,
            f"best_val_{name}": self.best,
            "val_teacher_error": teacher_error,
            "val_teacher_error_ratio": ratio,
            "val_keepable": float(keepable),
            **{f"val_{other}": reading for other, reading in scores.items() if other != name},
            **signals,
        }

    def save_best(self, step: int) -> None:
        meta = {"stage": self.name, "step": str(step)}
        save_teacher(self.state.eval_model(), self.best_dir / "student.safetensors", meta)
        save_teacher(self.state.psi, self.best_dir / "psi.safetensors", meta)
        if self.state.head is not None:
            save_module(self.state.head, self.best_dir / HEAD_FILE, meta)

    def state_dict(self) -> dict[str, Any]:
        return {"best_score": self.best_score, "start_teacher_error": self.start_error}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_score = float(state["best_score"] if "best_score" in state else state["best_bleu"])
        start = state.get("start_teacher_error")
        self.start_error = None if start is None else float(start)

"""The ``distill`` stage's runner: DLM-One's alternating psi / generator updates with any registered objective.

``DistillState`` holds the networks, optimisers and streams, ``DistillUpdate`` takes one update,
``DistillValidator`` scores and keeps the best student; the shared step loop runs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlmkit.engine.context import RunContext
from dlmkit.engine.step_loop import LoopSettings, RunningMeans, run_steps
from dlmkit.errors import TrainingDiverged, UserError
from dlmkit.inference.generation import special_ids
from dlmkit.interfaces import Objective, OneStepGenerator, StageResult
from dlmkit.interfaces.objective import uses_discriminator
from dlmkit.interfaces.stage import STUDENT_ARTIFACT
from dlmkit.interfaces.teacher import as_module
from dlmkit.plugins import build
from dlmkit.stages.distill.generator_term import GeneratorTerm
from dlmkit.stages.distill.params import PSI_ARTIFACT, one_step_problem
from dlmkit.stages.distill.regression import TeacherPathTarget
from dlmkit.stages.distill.repeat_term import RepeatTerm
from dlmkit.stages.distill.start_anchor import StartStudentTarget
from dlmkit.stages.distill.state import DistillState
from dlmkit.stages.distill.update import DistillUpdate, StudentGenerator
from dlmkit.stages.distill.validation import DistillValidator

if TYPE_CHECKING:
    import torch

    from dlmkit.stages.distill.params import DistillParams


class Distiller:
    """One distillation stage as a step runner: state, update and validator put together."""

    def __init__(self, ctx: RunContext, name: str, stage: DistillParams):
        if ctx.teacher is None:
            raise UserError(f'[[stage]] "{name}": no teacher; set [teacher] checkpoint or train one first')
        if stage.t_init is None:  # the loader resolves it (the [sampler]'s); params built by hand must say it
            raise UserError(f'[[stage]] "{name}": t_init is unset; load the recipe with load_recipe')
        t_init = stage.t_init
        self.ctx, self.name, self.stage, self.t_init = ctx, name, stage, t_init
        self.objective: Objective = build("objective", stage.objective.name, stage.objective.params)
        self.state = DistillState(ctx, name, stage, ctx.teacher, with_head=uses_discriminator(self.objective))
        self.ckpt_dir = ctx.ckpt_dir(name)
        self.best_dir = ctx.stage_dir(name) / "best"
        if not isinstance(ctx.sampler, OneStepGenerator):  # validate says so first; a hand-built context may not
            raise UserError(one_step_problem(ctx.sampler))
        self.sampler: OneStepGenerator = ctx.sampler
        generator = StudentGenerator(self.state.student, self.sampler, ctx.schedule, ctx.injector)
        terms: list[GeneratorTerm] = []  # none (every weight 0): the generator's step stays as DLM-One's
        if stage.regression.weight > 0.0:
            terms.append(
                StartStudentTarget(stage.regression, generator)
                if stage.regression.target == "start_student"
                else TeacherPathTarget(stage.regression, self.state.teacher, ctx.schedule, t_init)
            )
        if stage.repeat_penalty > 0.0:
            excluded = sorted(special_ids(ctx.dataset.tokenizer))
            terms.append(RepeatTerm(stage.repeat_penalty, self.state.teacher, excluded))
        self.update = DistillUpdate(ctx, name, stage, self.state, self.objective, generator, self.ckpt_dir, terms)
        self.validator = DistillValidator(ctx, name, stage, self.state, self.sampler, t_init, self.best_dir)

    # -- what the shared loop asks for ----------------------------------------------------
    def note(self) -> str:
        s = self.stage
        return (
            f"distilling with '{s.objective.name}' for {s.steps} steps, batch {s.batch_size}, "
            f"t in [{s.t_min}, {s.t_max}], t_init {self.t_init}"
        )

    def modules(self) -> dict[str, torch.nn.Module]:
        return self.state.modules()

    def state_dict(self) -> dict[str, Any]:
        return {**self.state.state_dict(), **self.validator.state_dict(), **self.update.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.state.load_state_dict(state)
        self.validator.load_state_dict(state)
        self.update.load_state_dict(state)

    def step(self, step: int, means: RunningMeans) -> None:
        self.update.steps_done = step
        results = [self.update.update("psi") for _ in range(self.objective.generator_every)]
        # A psi fresh from the teacher gives no SiD signal and an untrained discriminator, so the
        # generator waits while psi catches up with it (SiDA holds G for its first 100k images).
        if step >= self.stage.psi_warmup_steps:
            results.append(self.update.update("generator"))
            if self.state.ema is not None:
                self.state.ema.update(as_module(self.state.student))
        self.update.steps_done = step + 1
        for terms in results:
            means.record(terms or {})

    def log_extras(self) -> dict[str, float]:
        return {"skipped_steps": float(self.update.guard.skipped)}

    def validate(self, step: int) -> dict[str, float]:
        return self.validator.validate(step)

    def done(self, step: int) -> None:
        warmup = self.stage.psi_warmup_steps
        if step > warmup and self.update.generator_updates == 0:
            raise TrainingDiverged(
                f'[[stage]] "{self.name}": all {step - warmup} generator updates were '
                f"non-finite ({self.update.guard.skipped} skipped updates in all), so the student never trained; "
                "lower the learning rates or set max_grad_norm"
            )

    def run(self, kind: str) -> StageResult:
        s, state = self.stage, self.state
        settings = LoopSettings.of(s, validate_first=True, validate_last=True)
        with self.ctx.runtime.compiled(state.teacher, state.student, state.psi):
            end = run_steps(self.ctx, self.name, kind, self, settings, self.ckpt_dir)
        if not end.complete:
            return StageResult.stopped(end.step)
        return StageResult(
            artifacts={
                STUDENT_ARTIFACT: self.best_dir / "student.safetensors",
                PSI_ARTIFACT: self.best_dir / "psi.safetensors",
            },
            summary={
                "steps": end.step,
                f"best_val_{s.val_metric}": self.validator.best,
                "skipped_steps": self.update.guard.skipped,
                "complete": True,
            },
        )

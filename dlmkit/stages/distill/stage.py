"""The ``distill`` stage kind: one DLM-One stage of alternating psi and generator updates."""

from __future__ import annotations

import attrs

from dlmkit.engine.context import RunContext
from dlmkit.interfaces import OneStepGenerator, StageResult, StagesBefore
from dlmkit.interfaces.stage import STUDENT_ARTIFACT
from dlmkit.stages.distill.params import PSI_ARTIFACT, TEACHER_ERROR, DistillParams, one_step_problem
from dlmkit.stages.distill.regression import steps_problem
from dlmkit.stages.distill.runner import Distiller


@attrs.frozen
class Distill:
    """Distils the teacher (or continues an earlier stage's student) into a one-step student."""

    params: DistillParams
    produces: frozenset[str] = frozenset({STUDENT_ARTIFACT, PSI_ARTIFACT})

    def check(self, name: str, before: StagesBefore) -> list[str]:
        p = self.params
        problems = []
        if p.val_metric != TEACHER_ERROR and p.val_metric not in before.registry.entries["metric"]:
            problems.append(before.registry.missing_message("metric", p.val_metric))
        for metric in p.val_also:
            if metric not in before.registry.entries["metric"]:
                problems.append(f"'val_also': {before.registry.missing_message('metric', metric)}")
        if p.val_sampler not in before.registry.entries["sampler"]:
            problems.append(before.registry.missing_message("sampler", p.val_sampler))
        earlier = [s for s, made in before.artifacts.items() if STUDENT_ARTIFACT in made]
        if p.init_student != "teacher" and p.init_student not in earlier:
            problems.append(
                f"'init_student' = {p.init_student!r} must be \"teacher\" or an earlier stage that leaves a student: "
                f"{', '.join(earlier) or 'none'}"
            )
        if p.init_psi == "previous" and p.init_student == "teacher":
            problems.append("'init_psi' = \"previous\" needs 'init_student' to name an earlier distill stage")
        elif p.init_psi == "previous" and PSI_ARTIFACT not in before.artifacts.get(p.init_student, frozenset()):
            problems.append(f"'init_psi' = \"previous\" needs stage {p.init_student!r} to leave a psi")
        regression = None if p.t_init is None else steps_problem(p.regression, p.t_init)
        if regression is not None:  # found before any stage runs, not when this one starts
            problems.append(regression)
        if before.sampler is not None and not isinstance(before.sampler, OneStepGenerator):
            problems.append(one_step_problem(before.sampler))
        if before.has_teacher is False:
            problems.append(
                'distillation needs a trained teacher: set [teacher] checkpoint = "..." (a dlmkit teacher '
                "or an official DiffuSeq ema_*.pt; see `dlmkit teacher import`), "
                "or add a train_teacher stage before it"
            )
        return problems

    def run(self, ctx: RunContext, name: str) -> StageResult:
        return Distiller(ctx, name, self.params).run("distill")


def build_distill(params: DistillParams) -> Distill:
    """DLM-One distillation with any registered objective (SiD+GAN in the paper)."""
    return Distill(params)

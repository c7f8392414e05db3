"""The regression target ``start_student``: the stage's starting student, frozen, as a proximal anchor.

A later stage that trains only at low noise sharpens outputs, but the student's whole network moves,
and with it the choice of answer each noise input gets: on the exact-teacher proof a 500-iteration
stage at t < 1,000 sent 11-22% of the valid outputs to another answer for the same input
(docs/results.md), and the modes' balance drifted although nothing at low noise rewards a change of
answer.  Pulling each output towards what the stage's first student wrote for the same input makes a
change of answer (a large move) cost far more than sharpening (a small one).
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor

from dlmkit.interfaces import Batch, ConditioningInjector, NoiseSchedule, OneStepGenerator, Scalar, Teacher
from dlmkit.interfaces.teacher import as_module
from dlmkit.stages.distill.regression import RegressionSpec, pair_count, weighted_term


class StartStudentTarget:
    """A frozen copy of the student as the stage starts, run through the same one-step path (not a Module)."""

    def __init__(
        self,
        spec: RegressionSpec,
        student: Teacher,
        sampler: OneStepGenerator,
        schedule: NoiseSchedule,
        injector: ConditioningInjector,
    ):
        self.spec, self.sampler, self.schedule, self.injector = spec, sampler, schedule, injector
        self.start: Teacher = copy.deepcopy(student)  # made before a resume loads the checkpoint into ``student``
        module = as_module(self.start).eval()  # no dropout: the anchor is one fixed map
        for p in module.parameters():
            p.requires_grad_(False)

    def target(self, cond: Batch, z: Tensor) -> Tensor:
        """The starting student's one-step output ``[n, L, D]`` for the first ``n`` sequences, from noise ``z``."""
        n = pair_count(self.spec, len(cond))
        with torch.no_grad():
            return self.sampler.generate(self.start, cond.slice(0, n), self.schedule, z[:n], self.injector)

    def term(self, cond: Batch, z: Tensor, x_gen: Tensor) -> tuple[Tensor, dict[str, Scalar]]:
        """``weight`` times the regression loss, and its unweighted value to log."""
        return weighted_term(self.spec, x_gen, self.target(cond, z), cond.input_mask)

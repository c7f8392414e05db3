"""The regression target ``start_student``: the stage's starting student, frozen, as a proximal anchor.

A later stage that trains only at low noise sharpens outputs, but the student's whole network moves,
and with it the choice of answer each noise input gets: on the exact-teacher proof a 500-iteration
stage at t < 1,000 sent 11-22% of the valid outputs to another answer for the same input
(docs/results.md), and the modes' balance drifted although nothing at low noise rewards a change of
answer.  Pulling each output towards what the stage's first student wrote for the same input makes a
change of answer (a large move) cost far more than sharpening (a small one).
"""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor

from dlmkit.interfaces import Batch, Scalar, Teacher
from dlmkit.interfaces.teacher import as_module
from dlmkit.nn.frozen import frozen_copy
from dlmkit.stages.distill.regression import RegressionSpec, pair_count, weighted_term
from dlmkit.stages.distill.update import StudentGenerator


class StartStudentTarget:
    """The stage's one-step path run on a frozen copy of the student as the stage starts (not a Module)."""

    def __init__(self, spec: RegressionSpec, generator: StudentGenerator):
        self.spec = spec
        # copied when the stage is built, before a resume loads the checkpoint into the live student
        self.start = cast(Teacher, frozen_copy(as_module(generator.student)))
        self.path = StudentGenerator(self.start, generator.sampler, generator.schedule, generator.injector)

    def target(self, cond: Batch, z: Tensor) -> Tensor:
        """The starting student's one-step output ``[n, L, D]`` for the first ``n`` sequences, from noise ``z``."""
        n = pair_count(self.spec, len(cond))
        with torch.no_grad():
            return self.path(cond.slice(0, n), z[:n])

    def term(self, cond: Batch, z: Tensor, x_gen: Tensor) -> tuple[Tensor, dict[str, Scalar]]:
        """``weight`` times the regression loss, and its unweighted value to log."""
        return weighted_term(self.spec, x_gen, self.target(cond, z), cond.input_mask)

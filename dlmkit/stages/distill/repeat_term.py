"""The distill stage's optional ``repeat_penalty``: the generator's term against repeated adjacent tokens."""

from __future__ import annotations

from torch import Tensor

from dlmkit.injectors.positions import target_positions
from dlmkit.interfaces import Batch, Scalar, Teacher
from dlmkit.objectives.repeat_penalty import adjacent_repeat_probability


class RepeatTerm:
    """``weight`` times the chance that the teacher's logits of the output write a token twice in a row.

    The frozen teacher reads the output (as the regression's token term does), so the term moves the
    student's output and never the decoder.  Not a Module: it holds a frozen network.
    """

    def __init__(self, weight: float, teacher: Teacher, excluded: list[int]):
        self.weight, self.teacher, self.excluded = weight, teacher, excluded

    def term(self, cond: Batch, z: Tensor, x_gen: Tensor) -> tuple[Tensor, dict[str, Scalar]]:
        tokens = target_positions(cond.input_mask, x_gen)[..., 0]
        prob = adjacent_repeat_probability(self.teacher.logits(x_gen.float()), tokens, self.excluded)
        return self.weight * prob, {"repeat_prob": prob.detach()}

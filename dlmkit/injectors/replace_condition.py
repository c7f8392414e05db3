"""DLM-One's condition replacement (Appendix B.1.2): the true condition embedding overrides the generator's."""

from __future__ import annotations

import attrs
from torch import Tensor

from dlmkit.injectors.partial_noising import keep_condition


@attrs.frozen
class ReplaceConditionParams:
    """``replace_condition`` has no options; the class exists so recipes are checked for stray keys."""


class ReplaceCondition:
    """``e = e_cond ⊕ e_data_theta``: every loss sees the real condition next to the generated target.

    The paper found this stabilises training and prevents degeneration; no gradient reaches the
    generator through condition positions.  Noised sequences keep the condition clean, as in DiffuSeq.
    """

    def __init__(self, params: ReplaceConditionParams | None = None) -> None:
        self.params = params or ReplaceConditionParams()

    def noised(self, x_t: Tensor, x0: Tensor, mask: Tensor) -> Tensor:
        return keep_condition(x_t, x0, mask)

    def generated(self, x_gen: Tensor, x_cond: Tensor, mask: Tensor) -> Tensor:
        return keep_condition(x_gen, x_cond, mask)


def build_replace_condition(params: ReplaceConditionParams) -> ReplaceCondition:
    return ReplaceCondition(params)

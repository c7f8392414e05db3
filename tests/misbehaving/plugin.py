"""Registers an objective and a metric that raise what ``MODE`` says, from inside a run or an eval."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import attrs

from dlmkit.hookspecs import Register, hookimpl
from dlmkit.interfaces import DistillContext, LossOutput

#: What the components do when called: "exit0" (SystemExit(0)), "interrupt" (KeyboardInterrupt), "raise" (ValueError).
MODE: dict[str, str] = {"now": "raise"}


def misbehave() -> None:
    if MODE["now"] == "exit0":
        raise SystemExit(0)
    if MODE["now"] == "interrupt":
        raise KeyboardInterrupt("from the plugin")
    raise ValueError("the plugin's own bug")


@attrs.frozen
class NoParams:
    pass


class BadObjective:
    generator_every = 1
    uses_real_data = False

    def __init__(self, params: NoParams):
        pass

    def psi_loss(self, ctx: DistillContext) -> LossOutput:
        misbehave()
        raise AssertionError("unreachable")

    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        misbehave()
        raise AssertionError("unreachable")


class BadMetric:
    higher_is_better = True
    needs_candidates = False
    calls: ClassVar[int] = 0

    def __init__(self, params: NoParams):
        pass

    def compute(
        self, hyps: Sequence[str], refs: Sequence[str], sources: Sequence[str], candidates: object = None
    ) -> float:
        misbehave()
        raise AssertionError("unreachable")


class Misbehaving:
    @hookimpl
    def register_objectives(self, register: Register) -> None:
        register("misbehaving", BadObjective, params=NoParams, summary="raises what MODE says")

    @hookimpl
    def register_metrics(self, register: Register) -> None:
        register("misbehaving", BadMetric, params=NoParams, summary="raises what MODE says")

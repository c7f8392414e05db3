"""``psi_warmup_steps``: the first iterations of a stage update psi only, then both networks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import attrs
import pytest

from dlmkit.engine.pipeline import run_recipe
from dlmkit.errors import UserError
from dlmkit.hookspecs import Register, hookimpl
from dlmkit.interfaces import DistillContext, LossOutput
from dlmkit.recipe.load import load_recipe
from dlmkit.testing.temporary_plugin import temporary_plugin
from tests.test_pipeline import SHORT, TINY


@attrs.frozen
class CountingParams:
    pass


class Counting:
    """A DSM-like psi loss and a pull of the generator towards zero, counting the calls of each."""

    generator_every = 1
    uses_real_data = False
    built: ClassVar[list[Counting]] = []

    def __init__(self, params: CountingParams):
        self.psi_calls = 0
        self.generator_calls = 0
        Counting.built.append(self)

    def psi_loss(self, ctx: DistillContext) -> LossOutput:
        self.psi_calls += 1
        t = ctx.sample_t(ctx.x_gen.shape[0])
        x_t = ctx.noised(ctx.x_gen, t, ctx.noise_like(ctx.x_gen), ctx.mask)
        return LossOutput(((ctx.psi.denoise(x_t, t) - ctx.x_gen) ** 2).mean())

    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        self.generator_calls += 1
        return LossOutput((ctx.x_gen**2).mean())


class CountingPlugin:
    @hookimpl
    def register_objectives(self, register: Register) -> None:
        register("counting", Counting, params=CountingParams, summary="test objective that counts its calls")


@pytest.fixture
def counting() -> Iterator[list[Counting]]:
    with temporary_plugin(CountingPlugin(), "counting-test"):
        Counting.built.clear()
        yield Counting.built


def test_generator_waits_for_the_warmup_steps(tmp_path: Path, counting: list[Counting]) -> None:
    overrides = [
        *SHORT,
        'stage.stage1.objective={name = "counting"}',
        "stage.stage1.psi_warmup_steps=4",
        'stage.stage2.objective={name = "counting"}',
    ]
    recipe = load_recipe(TINY, overrides)  # validation builds (and drops) one objective per stage
    counting.clear()
    run_recipe(recipe, output_dir=tmp_path / "run", progress=False)
    stage1, stage2 = counting
    assert (stage1.psi_calls, stage1.generator_calls) == (6, 2)  # 6 iterations, the first 4 psi only
    assert (stage2.psi_calls, stage2.generator_calls) == (4, 4)  # no warm-up: one of each per iteration


def test_a_warmup_as_long_as_the_stage_is_refused() -> None:
    with pytest.raises(UserError, match=r"psi_warmup_steps.*must be smaller than 'steps' \(6\)"):
        load_recipe(TINY, [*SHORT, "stage.stage1.psi_warmup_steps=6"])

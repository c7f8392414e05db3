"""The NaN/inf guard: non-finite updates are skipped and counted; too many in a row stop the run clearly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from dlmkit.engine.pipeline import run_recipe
from dlmkit.errors import TrainingDiverged
from dlmkit.hookspecs import Register, hookimpl
from dlmkit.interfaces import DistillContext, LossOutput
from dlmkit.recipe.load import load_recipe
from dlmkit.testing.temporary_plugin import temporary_plugin
from tests.test_pipeline import SHORT, TINY


@attrs.frozen
class FlakyParams:
    bad_from: int = 3  # generator updates from this call on return a NaN loss


class Flaky:
    """Mean-squared pull towards the teacher, that turns NaN after a number of generator updates."""

    generator_every = 1
    uses_real_data = False

    def __init__(self, params: FlakyParams):
        self.params = params
        self.calls = 0

    def psi_loss(self, ctx: DistillContext) -> LossOutput:
        t = ctx.sample_t(ctx.x_gen.shape[0])
        x_t = ctx.noised(ctx.x_gen, t, ctx.noise_like(ctx.x_gen), ctx.mask)
        return LossOutput(((ctx.psi.denoise(x_t, t) - ctx.x_gen) ** 2).mean())

    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        self.calls += 1
        loss = (ctx.x_gen**2).mean()
        return LossOutput(loss * float("nan") if self.calls >= self.params.bad_from else loss)


class FlakyPlugin:
    @hookimpl
    def register_objectives(self, register: Register) -> None:
        register("flaky", Flaky, params=FlakyParams, summary="test objective that diverges")


@pytest.fixture
def flaky() -> Iterator[None]:
    with temporary_plugin(FlakyPlugin(), "flaky-test"):
        yield


def test_non_finite_steps_are_skipped_then_the_run_stops_naming_the_checkpoint(tmp_path: Path, flaky: None) -> None:
    overrides = [*SHORT, 'stage.stage1.objective={name = "flaky", bad_from = 4}', "stage.stage1.max_bad_steps=3"]
    recipe = load_recipe(TINY, overrides)
    with pytest.raises(TrainingDiverged) as caught:
        run_recipe(recipe, output_dir=tmp_path / "run", progress=False)
    message = str(caught.value)
    assert "3 non-finite generator updates in a row" in message
    assert str(tmp_path / "run" / "stage1" / "ckpt" / "step_0000004") in message
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    skipped = [r["skipped_steps"] for r in logged if r["stage"] == "stage1" and "skipped_steps" in r]
    assert skipped[:3] == [0.0, 0.0, 0.0] and skipped[-1] == 2.0  # steps 4 and 5 skipped, step 6 stops


def test_a_stage_whose_every_generator_update_is_non_finite_fails_with_exit_2(tmp_path: Path, flaky: None) -> None:
    overrides = [*SHORT, 'stage.stage1.objective={name = "flaky", bad_from = 1}', "stage.stage1.max_bad_steps=50"]
    recipe = load_recipe(TINY, overrides)
    with pytest.raises(TrainingDiverged, match=r'"stage1": all \d+ generator updates were non-finite') as caught:
        run_recipe(recipe, output_dir=tmp_path / "run", progress=False)
    assert caught.value.exit_code == 2


def test_teacher_training_that_turns_non_finite_stops_with_exit_2(tmp_path: Path) -> None:
    overrides = [*SHORT, "stage.teacher.steps=30", "stage.teacher.lr=1e30", "stage.teacher.ckpt_every=0"]
    with pytest.raises(TrainingDiverged, match=r'"teacher": 20 non-finite teacher-training steps in a row') as caught:
        run_recipe(load_recipe(TINY, overrides), output_dir=tmp_path / "run", progress=False)
    assert caught.value.exit_code == 2

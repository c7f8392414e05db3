"""What a distill stage keeps: never a student the teacher denoises far worse than at the start;
``teacher_error`` as the validation metric; a student and psi from another teacher file; ``dlmkit plot``."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import attrs
import pytest
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.engine.pipeline import run_recipe
from dlmkit.errors import UserError
from dlmkit.hookspecs import Register, hookimpl
from dlmkit.interfaces import DistillContext, LossOutput
from dlmkit.recipe.load import load_recipe
from dlmkit.testing.temporary_plugin import temporary_plugin
from tests.test_pipeline import SHORT, TINY


@attrs.frozen
class NoParams:
    pass


class Inflate:
    """psi on DSM; the generator pushed off the table's scale (a runaway on purpose)."""

    generator_every = 1
    uses_real_data = False

    def __init__(self, params: NoParams):
        pass

    def psi_loss(self, ctx: DistillContext) -> LossOutput:
        t = ctx.sample_t(ctx.x_gen.shape[0])
        x_t = ctx.noised(ctx.x_gen, t, ctx.noise_like(ctx.x_gen), ctx.mask)
        return LossOutput(((ctx.psi.denoise(x_t, t) - ctx.x_gen) ** 2).mean())

    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        return LossOutput(-(ctx.x_gen**2).mean())


class Rising:
    """A metric that rises at every call: without the rule, every validation would be kept."""

    higher_is_better = True
    needs_candidates = False
    calls: ClassVar[int] = 0

    def __init__(self, params: NoParams):
        pass

    def compute(
        self, hyps: Sequence[str], refs: Sequence[str], sources: Sequence[str], candidates: object = None
    ) -> float:
        Rising.calls += 1
        return float(Rising.calls)


class RunawayPlugin:
    @hookimpl
    def register_objectives(self, register: Register) -> None:
        register("inflate", Inflate, params=NoParams, summary="test objective that runs away")

    @hookimpl
    def register_metrics(self, register: Register) -> None:
        register("rising", Rising, params=NoParams, summary="test metric that rises at every call")


@pytest.fixture
def runaway() -> Iterator[None]:
    with temporary_plugin(RunawayPlugin(), "runaway-test"):
        yield


def stage1_validations(run: Path) -> list[dict[str, float]]:
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r for r in lines if r["stage"] == "stage1" and "val_teacher_error" in r]


RUNAWAY = [
    *SHORT,
    'stage.stage1.objective={name = "inflate"}',
    "stage.stage1.optim.generator.lr=0.05",
    "stage.stage1.steps=8",
    "stage.stage1.eval_every=2",
    "stage.stage1.ema_decay=0.0",
    'stage.stage1.val_metric="rising"',
]


def test_a_student_that_ran_off_the_teachers_scale_is_not_kept(tmp_path: Path, runaway: None) -> None:
    run_recipe(
        load_recipe(TINY, [*RUNAWAY, "stage.stage1.keep_max_teacher_error=1.5"]), tmp_path / "run", progress=False
    )
    rows = stage1_validations(tmp_path / "run")
    refused = [r for r in rows if r["val_keepable"] == 0.0]
    assert refused, [r["val_teacher_error_ratio"] for r in rows]  # the objective did run away
    assert all(r["val_teacher_error_ratio"] > 1.5 for r in refused)
    assert all(r["best_val_rising"] < r["val_rising"] for r in refused)
    kept = max(r["val_rising"] for r in rows if r["val_keepable"] == 1.0)
    assert rows[-1]["best_val_rising"] == kept


def test_without_the_rule_the_metric_alone_keeps(tmp_path: Path, runaway: None) -> None:
    run_recipe(
        load_recipe(TINY, [*RUNAWAY, "stage.stage1.keep_max_teacher_error=1e9"]), tmp_path / "run", progress=False
    )
    rows = stage1_validations(tmp_path / "run")
    assert rows[-1]["best_val_rising"] == rows[-1]["val_rising"]
    assert rows[-1]["val_teacher_error_ratio"] > 1.5  # the same runaway as above, kept


def test_teacher_error_as_the_validation_metric_keeps_the_lowest(tmp_path: Path, runaway: None) -> None:
    overrides = [*RUNAWAY, 'stage.stage1.val_metric="teacher_error"', "stage.stage1.keep_max_teacher_error=1000.0"]
    run_recipe(load_recipe(TINY, overrides), tmp_path / "run", progress=False)
    rows = stage1_validations(tmp_path / "run")
    assert rows[-1]["best_val_teacher_error"] == min(r["val_teacher_error"] for r in rows)
    assert rows[-1]["val_teacher_error"] > rows[0]["val_teacher_error"]


def test_student_from_must_share_the_teachers_table(tmp_path: Path) -> None:
    run_recipe(
        load_recipe(TINY, [*SHORT, "stage.stage1.steps=2", "stage.stage2.steps=2"]), tmp_path / "a", progress=False
    )
    other = tmp_path / "a" / "teacher" / "teacher.safetensors"
    assert other.is_file()
    recipe = load_recipe(TINY, [*SHORT, "seed=1", f'stage.stage1.student_from="{other}"'])
    with pytest.raises(UserError, match="another embedding table than the teacher"):
        run_recipe(recipe, tmp_path / "b", progress=False)


def test_plot_draws_the_instruments_and_names_a_bad_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_recipe(load_recipe(TINY, SHORT), run, progress=False)
    result = CliRunner().invoke(cli, ["plot", str(run)])
    assert result.exit_code == 0, result.output
    assert (run / "instruments.png").read_bytes()[:4] == b"\x89PNG"
    with (run / "metrics.jsonl").open("a") as handle:
        handle.write("{not json\n")
    bad = CliRunner().invoke(cli, ["plot", str(run)])
    assert bad.exit_code == 2 and "metrics.jsonl, line" in bad.output and "Traceback" not in bad.output

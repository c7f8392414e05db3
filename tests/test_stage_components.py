"""What a distill stage builds from its components: the extra network an objective declares, the one-step
generator the recipe's ``[sampler]`` provides, and the shared rule for skipped non-finite updates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from dlmkit.engine.finite_step import NonFiniteGuard
from dlmkit.engine.pipeline import run_recipe
from dlmkit.errors import RecipeError, TrainingDiverged
from dlmkit.interfaces import Batch, OneStepGenerator
from dlmkit.interfaces.objective import uses_discriminator
from dlmkit.objectives.discriminator import HEAD_FILE
from dlmkit.objectives.dmd import DmdParams
from dlmkit.plugins import build
from dlmkit.recipe.load import load_recipe
from dlmkit.samplers import OneStepParams, OneStepSampler, StudentMultistepParams, StudentMultistepSampler
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.stages.distill.state import without_unused_head
from dlmkit.testing.toy_teacher import ToyTeacherParams, build_toy_teacher
from tests.tiny_run import FAST, TINY


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [("sid", None, False), ("sid_gan", None, True), ("gan", None, True), ("adversarial", None, True)],
)
def test_objectives_declare_whether_they_read_the_discriminator(name: str, params: object, expected: bool) -> None:
    assert uses_discriminator(build("objective", name, params)) is expected


def test_dmd_needs_the_head_only_with_its_gan_term() -> None:
    assert uses_discriminator(build("objective", "dmd", DmdParams(gan_weight_g=0.5))) is True
    assert uses_discriminator(build("objective", "dmd", DmdParams())) is False  # gan_weight_g defaults to 0


def test_an_objective_that_says_nothing_gets_the_head_as_before() -> None:
    class Older:  # a plugin objective written before the declaration existed
        generator_every = 1
        uses_real_data = False

    assert uses_discriminator(Older()) is True


def test_only_a_stage_whose_objective_reads_the_head_builds_and_saves_one(tmp_path: Path) -> None:
    recipe = load_recipe(
        TINY, [*FAST, 'stage.stage1.objective={name="sid"}', "stage.stage1.eval_every=1", "stage.stage2.eval_every=1"]
    )
    run_recipe(recipe, output_dir=tmp_path / "run", progress=False)
    sid_files = {p.name for p in (tmp_path / "run" / "stage1").rglob("*.safetensors")}
    gan_files = {p.name for p in (tmp_path / "run" / "stage2").rglob("*.safetensors")}
    assert "psi.safetensors" in sid_files and HEAD_FILE not in sid_files
    assert HEAD_FILE in gan_files  # stage 2 is sid_gan: a fresh head, since stage 1 left none


def test_an_old_checkpoint_with_an_unused_head_group_loads_into_psi_without_one() -> None:
    trunk, head = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.zeros(2))
    groups: list[dict[str, Any]] = [{"params": [trunk]}, {"params": [head], "lr": 1e-2}]
    before = torch.optim.AdamW(groups, lr=1e-3)
    trunk.grad = torch.full((3,), 0.5)
    before.step()
    saved = before.state_dict()
    after = torch.optim.AdamW([{"params": [trunk]}], lr=1e-3)
    after.load_state_dict(without_unused_head(saved, after))
    assert torch.equal(after.state_dict()["state"][0]["exp_avg"], saved["state"][0]["exp_avg"])
    same = torch.optim.AdamW([{"params": [trunk]}, {"params": [head]}], lr=1e-3)
    assert without_unused_head(saved, same) is saved  # nothing dropped when the head is still there


def test_a_sampler_without_a_one_step_path_cannot_train_a_distill_stage() -> None:
    with pytest.raises(RecipeError) as caught:
        load_recipe(TINY, [*FAST, 'sampler={name="ancestral"}'])
    message = str(caught.value)
    assert '[[stage]] "stage1"' in message and "[sampler] 'ancestral' has no one-step path" in message
    load_recipe(
        TINY, [*FAST, 'sampler={name="student_multistep", t_init=1490, steps=2}']
    )  # one, through its first call


def test_the_multistep_student_trains_through_exactly_the_one_step_path() -> None:
    torch.manual_seed(0)
    model = build_toy_teacher(ToyTeacherParams(), vocab_size=15, seq_len=6)
    schedule = build_sqrt_schedule(SqrtScheduleParams())
    batch = Batch(torch.tensor([[1, 2, 3, 4, 5, 6]]), torch.tensor([[0, 0, 1, 1, 1, 1]]))
    zeta = torch.randn(1, 6, 16, generator=torch.Generator().manual_seed(3))
    multi = StudentMultistepSampler(StudentMultistepParams(t_init=1200, steps=3))
    assert isinstance(multi, OneStepGenerator) and isinstance(OneStepSampler(), OneStepGenerator)
    x_multi = multi.generate(model, batch, schedule, zeta)
    x_one = OneStepSampler(OneStepParams(t_init=1200)).generate(model, batch, schedule, zeta)
    assert torch.equal(x_multi, x_one) and x_multi.requires_grad


def test_the_guard_counts_each_stream_in_a_row_and_names_the_last_checkpoint(tmp_path: Path) -> None:
    guard = NonFiniteGuard("stage1", 2, tmp_path / "ckpt", "lower the rates")
    guard.failed("psi", "psi updates", 1)
    guard.failed("generator", "generator updates", 1)
    guard.passed("psi")
    guard.failed("psi", "psi updates", 2)  # a finite psi update in between: one in a row again
    assert guard.skipped == 3
    with pytest.raises(
        TrainingDiverged,
        match=r'"stage1": 2 non-finite generator updates in a row at step 3; '
        r"last good checkpoint: none \(stage start\); lower the rates",
    ):
        guard.failed("generator", "generator updates", 3)

"""The regression target ``start_student``: the stage's starting student, frozen, from the same input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from dlmkit.engine.pipeline import run_recipe
from dlmkit.errors import RecipeError
from dlmkit.injectors.replace_condition import ReplaceCondition
from dlmkit.interfaces import Batch
from dlmkit.recipe.load import load_recipe
from dlmkit.samplers.one_step import OneStepParams, OneStepSampler
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.stages.distill.regression import RegressionSpec, steps_problem
from dlmkit.stages.distill.start_anchor import StartStudentTarget
from dlmkit.stages.distill.update import StudentGenerator
from dlmkit.testing.toy_teacher import ToyTeacher, ToyTeacherParams, build_toy_teacher
from tests.kill_resume import run_killed
from tests.tiny_run import FAST, TINY

T = 50


def _anchor(pairs: int | None = None) -> tuple[ToyTeacher, StartStudentTarget, Batch, torch.Tensor]:
    torch.manual_seed(0)
    student = build_toy_teacher(ToyTeacherParams(num_timesteps=T), vocab_size=12, seq_len=6)
    student.train()
    ids = torch.randint(1, 12, (4, 6), generator=torch.Generator().manual_seed(1))
    batch = Batch(ids, torch.tensor([[0, 0, 1, 1, 1, 1]]).repeat(4, 1))
    z = torch.randn(4, 6, student.embed_dim, generator=torch.Generator().manual_seed(2))
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    spec = RegressionSpec(weight=2.0, target="start_student", pairs=pairs)
    path = StudentGenerator(student, OneStepSampler(OneStepParams(t_init=37)), schedule, ReplaceCondition())
    anchor = StartStudentTarget(spec, path)
    return student, anchor, batch, z


def test_the_target_is_the_starting_student_and_stays_so_while_the_student_trains() -> None:
    student, anchor, batch, z = _anchor(pairs=3)
    before = anchor.target(batch, z)
    assert before.shape[0] == 3 and not before.requires_grad
    loss, terms = anchor.term(batch, z, before.clone())
    assert float(loss) == 0.0 and float(terms["regression"]) == 0.0  # the start itself: nothing to pull
    with torch.no_grad():
        for p in student.parameters():
            p.add_(0.1 * torch.randn_like(p))
    assert torch.equal(anchor.target(batch, z), before)  # the copy is frozen, not a view of the student
    assert all(not p.requires_grad for p in anchor.start.parameters())


def test_the_term_is_the_weighted_distance_and_its_gradient_pulls_back_to_the_start() -> None:
    _, anchor, batch, z = _anchor()
    start = anchor.target(batch, z)
    moved = (start + 0.5 * torch.randn_like(start)).requires_grad_(True)
    loss, terms = anchor.term(batch, z, moved)
    assert float(loss.detach()) == pytest.approx(2.0 * float(terms["regression"]))  # weight 2
    loss.backward()
    assert moved.grad is not None
    step = moved.detach() - 10.0 * moved.grad
    target_rows = batch.input_mask.bool()
    before = (moved.detach() - start)[target_rows].norm()
    after = (step - start)[target_rows].norm()
    assert after < before


def test_steps_are_not_checked_against_t_init_for_this_target() -> None:
    spec = RegressionSpec(weight=1.0, target="start_student", steps=5000)
    assert steps_problem(spec, t_init=10) is None
    assert steps_problem(RegressionSpec(weight=1.0, steps=5000), t_init=10) is not None


def test_a_stage_with_the_anchor_starts_at_its_start_and_then_moves(tmp_path: Path) -> None:
    anchored = [
        *[s for s in FAST if not s.startswith("stage.stage2.steps")],
        "stage.stage2.steps=3",
        "stage.stage2.regression.weight=1.0",
        'stage.stage2.regression.target="start_student"',
    ]
    run_recipe(load_recipe(TINY, anchored), output_dir=tmp_path / "run", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    logged = [r["g_regression"] for r in rows if r["stage"] == "stage2" and "g_regression" in r]
    assert len(logged) == 3
    assert logged[-1] > logged[0]  # the student left its start, and the term saw it


def test_an_unknown_target_is_named() -> None:
    with pytest.raises(RecipeError, match=r"(?s)teacher_pth.*teacher_path"):
        load_recipe(TINY, [*FAST, 'stage.stage1.regression.target="teacher_pth"'])


def test_after_a_resume_the_anchor_is_still_the_stages_start(tmp_path: Path) -> None:
    # killed at step 5 and resumed from the step-4 checkpoint: an anchor rebuilt from the resumed student
    # would pull towards step 4, and stage 1's last weights would differ from the uninterrupted run's
    overrides = [
        *[s for s in FAST if not s.startswith("stage.stage1.")],
        "stage.stage1.steps=6",
        "stage.stage1.ckpt_every=2",
        "stage.stage1.eval_every=0",
        "stage.stage1.log_every=1",
        "stage.stage1.regression.weight=1.0",
        'stage.stage1.regression.target="start_student"',
    ]
    recipe = load_recipe(TINY, overrides)
    run_recipe(recipe, output_dir=tmp_path / "straight", progress=False)
    run_killed(recipe, tmp_path / "killed", "stage1", 5, "g_loss")
    run_recipe(recipe, output_dir=tmp_path / "killed", resume=True, progress=False)

    def last_student(run: str) -> dict[str, torch.Tensor]:
        return load_file(tmp_path / run / "stage1" / "ckpt" / "step_0000006" / "student.safetensors")

    straight, resumed = last_student("straight"), last_student("killed")
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)

"""The distill stage's regression term: targets from the teacher's deterministic DDIM from its start."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import attrs
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmkit.engine.pipeline import run_recipe
from dlmkit.errors import RecipeError, UserError
from dlmkit.interfaces import Batch
from dlmkit.objectives.regression import regression_loss
from dlmkit.recipe.load import load_recipe
from dlmkit.samplers import DDIMParams, DDIMSampler
from dlmkit.samplers.noise import ReplayNoise
from dlmkit.samplers.one_step import OneStepParams, OneStepSampler
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.stages.distill.regression import RegressionSpec, TeacherPathTarget
from dlmkit.testing.toy_teacher import ToyTeacher, ToyTeacherParams, build_toy_teacher
from tests.tiny_run import FAST, TINY

T = 50


def _parts(batch_size: int = 4) -> tuple[ToyTeacher, Batch, torch.Tensor]:
    torch.manual_seed(0)
    teacher = build_toy_teacher(ToyTeacherParams(num_timesteps=T), vocab_size=12, seq_len=6)
    teacher.eval()
    ids = torch.randint(1, 12, (batch_size, 6), generator=torch.Generator().manual_seed(1))
    mask = torch.tensor([[0, 0, 1, 1, 1, 1]]).repeat(batch_size, 1)
    z = torch.randn(batch_size, 6, teacher.embed_dim, generator=torch.Generator().manual_seed(2))
    return teacher, Batch(ids, mask), z


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**16), st.floats(0.1, 10.0))
def test_the_loss_is_zero_on_target_and_blind_to_the_condition(seed: int, scale: float) -> None:
    g = torch.Generator().manual_seed(seed)
    target = torch.randn(3, 6, 4, generator=g) * scale
    mask = torch.tensor([[0, 0, 1, 1, 1, 1]]).repeat(3, 1)
    moved = target.clone()
    moved[:, :2] += torch.randn(3, 2, 4, generator=g)  # condition positions differ: no loss
    assert float(regression_loss(moved, target, mask)) == 0.0
    off = target + torch.randn(3, 6, 4, generator=g)
    assert float(regression_loss(off, target, mask)) > 0.0


def test_the_target_is_the_teachers_ddim_from_the_students_start() -> None:
    teacher, batch, z = _parts()
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    path = TeacherPathTarget(RegressionSpec(weight=1.0, steps=4, pairs=3), teacher, schedule, t_init=37)
    target = path.target(batch, z)
    head = Batch(batch.input_ids[:3], batch.input_mask[:3])
    ddim = DDIMSampler(DDIMParams(steps=4, round_every_step=False, t_start=37))
    assert target.shape[0] == 3
    assert torch.equal(target, ddim.final_state(teacher, head, schedule, ReplayNoise(z[:3])))


def test_a_rounded_target_is_the_embeddings_of_the_rounded_ddims_tokens() -> None:
    teacher, batch, z = _parts()
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    spec = RegressionSpec(weight=1.0, steps=4, t_start=T - 1, rounded=True)
    target = TeacherPathTarget(spec, teacher, schedule, t_init=37).target(batch, z)
    rounded = DDIMSampler(DDIMParams(steps=4, round_every_step=True, t_start=T - 1))
    tokens = rounded.sample(teacher, batch, schedule, ReplayNoise(z))
    target_rows = batch.input_mask.bool()
    # every target position is exactly the embedding row of the token the rounded DDIM writes there
    assert torch.equal(target[target_rows], teacher.embed(tokens)[target_rows])
    unrounded = TeacherPathTarget(attrs.evolve(spec, rounded=False), teacher, schedule, t_init=37).target(batch, z)
    assert not torch.equal(unrounded[target_rows], target[target_rows])


def test_t_start_enters_the_same_noise_at_another_timestep() -> None:
    teacher, batch, z = _parts()
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    spec = RegressionSpec(weight=1.0, steps=4, t_start=T - 1)
    target = TeacherPathTarget(spec, teacher, schedule, t_init=37).target(batch, z)
    from_top = DDIMSampler(DDIMParams(steps=4, round_every_step=False, t_start=T - 1))
    assert torch.equal(target, from_top.final_state(teacher, batch, schedule, ReplayNoise(z)))
    own = TeacherPathTarget(RegressionSpec(weight=1.0, steps=4), teacher, schedule, t_init=37).target(batch, z)
    assert not torch.allclose(target, own)  # a different chain: the key is not ignored


def test_the_term_pulls_a_perturbed_student_onto_the_teachers_map() -> None:
    teacher, batch, z = _parts(batch_size=8)
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    student = copy.deepcopy(teacher)
    student.train()
    with torch.no_grad():
        for p in student.parameters():
            p.add_(0.05 * torch.randn_like(p))
    sampler = OneStepSampler(OneStepParams(t_init=37))
    path = TeacherPathTarget(RegressionSpec(weight=1.0, steps=5), teacher, schedule, t_init=37)
    opt = torch.optim.Adam([p for n, p in student.named_parameters() if "word_embedding" not in n], lr=1e-3)
    losses = []
    for _ in range(40):
        loss, terms = path.term(batch, z, sampler.generate(student, batch, schedule, z))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(terms["regression"]))
    assert losses[-1] < 0.5 * losses[0]


def test_a_stage_logs_the_term_only_when_it_is_on(tmp_path: Path) -> None:
    on = load_recipe(TINY, [*FAST, "stage.stage1.regression.weight=1.0", "stage.stage1.regression.pairs=2"])
    run_recipe(on, output_dir=tmp_path / "on", progress=False)
    off = load_recipe(TINY, FAST)
    run_recipe(off, output_dir=tmp_path / "off", progress=False)

    def logged(run: str) -> list[float]:
        rows = [json.loads(line) for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]
        return [r["g_regression"] for r in rows if r["stage"] == "stage1" and "g_regression" in r]

    assert logged("on") and all(v > 0.0 for v in logged("on"))
    assert logged("off") == []


def test_an_unknown_key_of_the_table_is_named() -> None:
    with pytest.raises(RecipeError, match=r"(?s)regression: unknown key 'wieght'.*did you mean 'weight'"):
        load_recipe(TINY, [*FAST, "stage.stage1.regression.wieght=1.0"])


def test_more_steps_than_t_init_allows_are_named() -> None:
    teacher, _, _ = _parts()
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    with pytest.raises(UserError, match=r"\[stage.regression\] steps = 12 exceeds the 11 timesteps from t_init 10"):
        TeacherPathTarget(RegressionSpec(weight=1.0, steps=12), teacher, schedule, t_init=10)
    TeacherPathTarget(RegressionSpec(weight=0.0, steps=12), teacher, schedule, t_init=10)  # off: nothing to run
    with pytest.raises(UserError, match=r"t_start = 50 is past the schedule's last timestep 49"):
        TeacherPathTarget(RegressionSpec(weight=1.0, t_start=T), teacher, schedule, t_init=10)
    with pytest.raises(UserError, match=r"steps = 12 exceeds the 6 timesteps from t_start 5"):
        TeacherPathTarget(RegressionSpec(weight=1.0, steps=12, t_start=5), teacher, schedule, t_init=40)


def test_a_recipe_with_more_steps_than_t_init_allows_fails_to_load() -> None:
    # Found when the recipe loads, before any stage runs, not when the distill stage starts.
    with pytest.raises(RecipeError, match=r"\[stage.regression\] steps = 5000 exceeds"):
        load_recipe(TINY, [*FAST, "stage.stage1.regression.weight=1.0", "stage.stage1.regression.steps=5000"])


def test_the_token_term_asks_for_the_rounded_chains_tokens() -> None:
    teacher, batch, z = _parts(batch_size=8)
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    spec = RegressionSpec(weight=1.0, steps=4, t_start=T - 1, rounded=True, token_weight=0.5)
    path = TeacherPathTarget(spec, teacher, schedule, t_init=37)
    target = path.target(batch, z)
    _, logged = path.term(batch, z, target)
    assert float(logged["regression_token_match"]) == 1.0  # the chain's own rows decode to its tokens
    # an output just past the midpoint between the chain's row and another decodes to the other token
    table = teacher.embedding_weight.detach()
    wrong = target.clone()
    rows = batch.input_mask.bool()
    ids = teacher.logits(target).argmax(-1)
    other = (ids + 1) % table.shape[0]
    wrong[rows] = 0.45 * table[ids[rows]] + 0.55 * table[other[rows]]
    off_target, logged_off = path.term(batch, z, wrong)
    assert float(logged_off["regression_token_match"]) < 1.0
    assert float(logged_off["regression_tokens"]) > float(logged["regression_tokens"])
    plain = TeacherPathTarget(attrs.evolve(spec, token_weight=0.0), teacher, schedule, t_init=37)
    plain_loss, plain_logged = plain.term(batch, z, wrong)
    assert "regression_tokens" not in plain_logged
    assert torch.allclose(off_target - plain_loss, 0.5 * torch.as_tensor(logged_off["regression_tokens"]))


def test_the_token_term_needs_the_rounded_chain() -> None:
    with pytest.raises(RecipeError, match=r"(?s)token_weight.*needs target = \"teacher_path\" and rounded = true"):
        load_recipe(TINY, [*FAST, "stage.stage1.regression.weight=1.0", "stage.stage1.regression.token_weight=2.0"])


def test_clamp_step_rounds_the_target_chain_only_at_its_noisy_steps() -> None:
    teacher, batch, z = _parts()
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    spec = RegressionSpec(weight=1.0, steps=4, t_start=T - 1, rounded=True, clamp_step=20)
    target = TeacherPathTarget(spec, teacher, schedule, t_init=37).target(batch, z)
    ddim = DDIMSampler(DDIMParams(steps=4, t_start=T - 1, clamp_step=20))
    assert torch.equal(target, ddim.final_state(teacher, batch, schedule, ReplayNoise(z)))
    every = TeacherPathTarget(attrs.evolve(spec, clamp_step=0), teacher, schedule, t_init=37).target(batch, z)
    assert not torch.equal(target, every)  # the last steps (t = 16, 0) are no longer rounded


def test_clamp_step_needs_the_rounded_chain() -> None:
    with pytest.raises(RecipeError, match=r"(?s)clamp_step.*set rounded = true"):
        load_recipe(TINY, [*FAST, "stage.stage1.regression.weight=1.0", "stage.stage1.regression.clamp_step=500"])

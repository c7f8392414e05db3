"""``lr_final``: a cosine anneal of a network's rate over its stage, a function of the step alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dlmkit.engine.pipeline import run_recipe
from dlmkit.errors import UserError
from dlmkit.recipe.load import load_recipe
from dlmkit.stages.lr_anneal import annealed_factor
from tests.test_pipeline import SHORT, TINY

rates = st.floats(min_value=1e-7, max_value=1.0)
progress = st.floats(min_value=0.0, max_value=1.0)


@given(lr=rates, share=st.floats(min_value=0.0, max_value=1.0), a=progress, b=progress)
def test_the_rate_falls_from_lr_to_lr_final_and_never_rises(lr: float, share: float, a: float, b: float) -> None:
    final = lr * share
    lo, hi = sorted((a, b))
    assert annealed_factor(lr, final, 0.0) == pytest.approx(1.0)
    assert annealed_factor(lr, final, 1.0) * lr == pytest.approx(final, rel=1e-9, abs=1e-15)
    assert share - 1e-12 <= annealed_factor(lr, final, hi) <= annealed_factor(lr, final, lo) + 1e-12 <= 1.0 + 2e-12


@given(lr=rates, p=progress)
def test_without_lr_final_the_rate_is_constant(lr: float, p: float) -> None:
    assert annealed_factor(lr, None, p) == 1.0


def _group_rates(run: Path, step: int) -> tuple[list[float], list[float]]:
    state = torch.load(run / "stage1" / "ckpt" / f"step_{step:07d}" / "trainer_state.pt", weights_only=True)
    return [g["lr"] for g in state["opt_g"]["param_groups"]], [g["lr"] for g in state["opt_psi"]["param_groups"]]


def test_a_stage_anneals_the_generator_to_lr_final_by_its_last_step(tmp_path: Path) -> None:
    # tiny_cpu's stage 1: generator 1e-5, psi 3e-5; 6 iterations; the last two checkpoints (4 and 6) are kept
    recipe = load_recipe(TINY, [*SHORT, "stage.stage1.optim.generator.lr_final=1e-6"])
    run_recipe(recipe, output_dir=tmp_path / "run", progress=False)
    gen_4, psi_4 = _group_rates(tmp_path / "run", 4)
    gen_6, psi_6 = _group_rates(tmp_path / "run", 6)
    assert gen_4 == [pytest.approx(1e-5 * annealed_factor(1e-5, 1e-6, 3 / 5))]  # last update: step 3 of 0..5
    assert gen_6 == [pytest.approx(1e-6)]
    assert psi_4 == psi_6 == [pytest.approx(3e-5)] * len(psi_6)  # psi has no lr_final: its rate stays


def test_an_lr_final_above_lr_is_refused_by_name() -> None:
    with pytest.raises(UserError, match=r"lr_final.*must not exceed 'lr'"):
        load_recipe(TINY, [*SHORT, "stage.stage1.optim.generator.lr_final=1e-3"])

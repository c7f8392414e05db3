"""Values that would run forever or train nothing are refused when the recipe is read, with the key named."""

from __future__ import annotations

import pytest

from dlmkit.errors import RecipeError
from dlmkit.recipe.load import load_recipe
from dlmkit.samplers.ancestral import AncestralParams
from tests.test_pipeline import SHORT, TINY


@pytest.mark.parametrize("top_p", [float("nan"), float("inf"), 1e-9, 0.01])
def test_a_top_p_that_would_never_finish_is_refused(top_p: float) -> None:
    with pytest.raises(ValueError, match="'top_p' must be <= 0"):
        AncestralParams(top_p=top_p)


@pytest.mark.parametrize("top_p", [-1.0, 0.0, 0.05, 0.9])
def test_usable_top_p_values_pass(top_p: float) -> None:
    assert AncestralParams(top_p=top_p).top_p == top_p


@pytest.mark.parametrize(("t_min", "t_max"), [(0, 0), (500, 500), (600, 500)])
def test_a_distill_stage_needs_a_range_of_noise_levels(t_min: int, t_max: int) -> None:
    overrides = [*SHORT, f"stage.stage1.t_min={t_min}", f"stage.stage1.t_max={t_max}"]
    with pytest.raises(RecipeError, match=r"'t_min' \(\d+\) must be below 't_max'"):
        load_recipe(TINY, overrides)


def test_more_evaluation_seeds_than_anyone_runs_is_refused() -> None:
    with pytest.raises(RecipeError, match="'seeds' must be <= 100"):
        load_recipe(TINY, [*SHORT, "eval.seeds=1000000000"])


def test_counts_past_a_split_are_said_once_and_capped() -> None:
    from dlmkit.engine.size_notes import capped_counts
    from dlmkit.plugins import build

    huge = 10**9
    recipe = load_recipe(
        TINY,
        [
            *SHORT,
            f"eval.num_samples={huge}",
            f"eval.timing_batch={huge}",
            f"stage.stage1.eval_samples={huge}",
            "stage.stage1.eval_every=2",
        ],
    )
    dataset = build("dataset", recipe.data.name, recipe.data.params)
    notes = capped_counts(recipe, dataset)
    test, valid = len(dataset.split("test")), len(dataset.split("valid"))
    assert notes == [
        f"[eval] num_samples = {huge:,}: the test split has {test:,}; all used",
        f"[eval] timing_batch = {huge:,}: {test:,} sources are scored; all timed",
        f'[[stage]] "stage1" eval_samples = {huge:,}: the valid split has {valid:,}; all used',
    ]
    assert capped_counts(load_recipe(TINY, SHORT), dataset) == []

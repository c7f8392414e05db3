"""Stage kinds are registered components: recipes pick them by ``kind``, each checks itself, and
``t_init`` is set once, in ``[sampler]``."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlmkit.errors import RecipeError
from dlmkit.plugins import build, get_registry
from dlmkit.recipe.load import load_recipe, render
from dlmkit.registry import KINDS

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "recipes" / "tiny_cpu.toml"


def test_every_kind_has_a_hook_and_an_interface_and_stage_kinds_are_registered() -> None:
    import dlmkit.hookspecs as hookspecs
    import dlmkit.interfaces as interfaces

    for kind, spec in KINDS.items():
        assert callable(getattr(hookspecs, spec.hook)), kind
        assert hasattr(interfaces, spec.interface), kind
    assert {"train_teacher", "distill"} <= set(get_registry().names("stage"))


def test_a_misspelt_stage_kind_is_refused_with_a_suggestion() -> None:
    with pytest.raises(RecipeError) as caught:
        load_recipe(TINY, ['stage.stage1.kind="distil"'])
    assert "'kind' must be one of" in str(caught.value) and "did you mean 'distill'" in str(caught.value)


def test_a_stage_kind_checks_what_earlier_stages_leave() -> None:
    with pytest.raises(RecipeError) as caught:
        load_recipe(TINY, ['stage.stage2.init_student="teacher_stage"', 'stage.teacher.name="teacher_stage"'])
    assert "earlier stage that leaves a student: stage1" in str(caught.value)


def test_a_stage_t_init_that_differs_from_the_samplers_is_refused() -> None:
    with pytest.raises(RecipeError) as caught:
        load_recipe(TINY, ["stage.stage1.t_init=1200"])
    message = str(caught.value)
    assert "'t_init' = 1200 differs from [sampler] t_init = 1490" in message
    assert "set t_init once, in [sampler]" in message


def test_distill_stages_take_t_init_from_the_sampler() -> None:
    recipe = load_recipe(TINY, ["sampler.t_init=1200"])
    assert recipe.t_init == 1200
    assert [s.params.t_init for s in recipe.stages if s.kind == "distill"] == [1200, 1200]  # resolved by the loader
    assert "t_init = 1200" in render(recipe)  # once, in [sampler]
    assert render(recipe).count("t_init") == 1


def test_teacher_loss_and_timestep_sampler_are_stage_keys_with_defaults() -> None:
    recipe = load_recipe(TINY, ['stage.teacher.timestep_sampler="lossaware"'])
    params = recipe.stage("teacher").params
    assert (params.loss.name, params.timestep_sampler.name) == ("diffuseq", "lossaware")
    sampler = build("timestep_sampler", "lossaware", params.timestep_sampler.params, num_timesteps=7)
    assert sampler.weights().shape == (7,)
    with pytest.raises(RecipeError, match=r"no teacher_loss named 'difuseq'.*did you mean 'diffuseq'"):
        load_recipe(TINY, ['stage.teacher.loss="difuseq"'])


@pytest.mark.parametrize(
    "name", ["tiny_cpu", "quickstart", "quickstart_teacher", "proof_modes", "proof_modes_teacher", "qqp_t1490_cpu"]
)
def test_what_show_prints_validates_and_resolves_to_itself(name: str, tmp_path: Path) -> None:
    shown = render(load_recipe(REPO / "recipes" / f"{name}.toml"))
    again = tmp_path / f"{name}.toml"
    again.write_text(shown, encoding="utf-8")
    assert render(load_recipe(again)) == shown

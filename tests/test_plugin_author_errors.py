"""The mistakes a plugin author makes first, and the messages that tell them what to do instead."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.errors import PluginConflict, PluginContractError, PluginLoadError
from dlmkit.hook_errors import hook_signatures
from dlmkit.plugins import create_plugins, reset_plugins
from tests.fake_dist import make_distribution


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("DLMKIT_STRICT_PLUGINS", raising=False)
    monkeypatch.setenv("DLMKIT_PLUGINS", "dlmkit_author")  # only this test's plugin, not the installed ones
    reset_plugins()
    yield tmp_path
    sys.modules.pop("dlmkit_author", None)
    reset_plugins()


def install(site: Path, source: str) -> None:
    make_distribution(site, "dlmkit-author", "dlmkit_author", "from dlmkit import hookimpl\nimport attrs\n" + source)


def failure(site: Path) -> str:
    (found,) = [f.error for f in create_plugins().failures if f.name == "dlmkit_author"]
    return found


def test_a_misspelt_hook_names_the_closest_hook_and_lists_them_all(site: Path) -> None:
    install(site, "@hookimpl\ndef register_teacher(register):\n    pass\n")
    error = failure(site)
    assert "implements 'register_teacher', which is not a dlmkit hook" in error
    assert "did you mean 'register_teachers'?" in error
    assert all(name in error for name in hook_signatures())
    assert "dlmkit/hookspecs.py" in error
    listed = CliRunner().invoke(cli, ["plugins", "--json"])
    assert listed.exit_code == 0, listed.output
    (shown,) = [f for f in json.loads(listed.output)["failed"] if f["name"] == "dlmkit_author"]
    assert shown["error"] == error and shown["distribution"] == "dlmkit-author"


def test_wrong_arguments_say_which_arguments_the_hook_passes(site: Path) -> None:
    install(site, "@hookimpl\ndef on_log(stage, step, values):\n    pass\n")
    error = failure(site)
    assert "hook 'on_log' passes the arguments (stage, step, metrics)" in error
    assert "declares (stage, step, values); 'values' is not among them" in error


def test_strict_mode_raises_the_same_explanation(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install(site, "@hookimpl\ndef register_objective(register):\n    pass\n")
    monkeypatch.setenv("DLMKIT_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match=r"dlmkit-author 0\.0\.1.*did you mean 'register_objectives'"):
        create_plugins()


def test_an_implementation_may_take_a_subset_of_the_arguments(site: Path) -> None:
    install(site, "@hookimpl\ndef on_stage_end(stage):\n    pass\n")
    plugins = create_plugins()
    assert not plugins.failures
    assert "on_stage_end" in next(p.hooks for p in plugins.infos() if p.name == "dlmkit_author")


def test_params_that_are_not_an_attrs_class_say_how_to_fix_it(site: Path) -> None:
    install(
        site,
        "class Params:\n    k: int = 3\n\n"
        "@hookimpl\ndef register_samplers(register):\n    register('mine', lambda p: p, params=Params)\n",
    )
    with pytest.raises(PluginConflict, match=r"params of sampler 'mine' must be an attrs class .*@attrs.frozen"):
        _ = create_plugins().registry


def test_a_name_clash_with_a_builtin_names_both_and_says_how_to_fix_it(site: Path) -> None:
    install(site, "@hookimpl\ndef register_objectives(register):\n    register('sid', lambda p: None)\n")
    with pytest.raises(PluginConflict) as caught:
        _ = create_plugins().registry
    message = str(caught.value)
    assert "objective 'sid' is registered twice: by dlmkit 0.1.0 and by dlmkit-author 0.0.1" in message
    assert "rename one, or pass override=True to register()" in message


def test_override_replaces_a_builtin_on_purpose(site: Path) -> None:
    install(
        site,
        "from dlmkit.objectives.sid import build_sid, SidParams\n"
        "@hookimpl\ndef register_objectives(register):\n"
        "    register('sid', build_sid, params=SidParams, summary='mine', override=True)\n",
    )
    entry = create_plugins().registry.get("objective", "sid")
    assert (entry.provider, entry.overrides, entry.summary) == ("dlmkit-author", "dlmkit 0.1.0", "mine")


NOT_A_TEACHER = """
import torch

class Half(torch.nn.Module):
    def denoise(self, x_t, t):
        return x_t

@attrs.frozen
class HalfParams:
    width: int = 4

@hookimpl
def register_teachers(register):
    register("half", lambda params, vocab_size, seq_len: Half(), params=HalfParams)

@hookimpl
def register_objectives(register):
    register("nothing", lambda params: object())
"""


def test_a_component_that_misses_its_interface_is_reported_when_built(site: Path) -> None:
    install(site, NOT_A_TEACHER)
    registry = create_plugins().registry
    teacher = registry.get("teacher", "half")
    with pytest.raises(PluginContractError) as caught:
        teacher.factory(teacher.make_params(), vocab_size=10, seq_len=8)
    message = str(caught.value)
    assert "the factory of teacher 'half' (plugin 'dlmkit_author' (dlmkit-author 0.0.1))" in message
    assert "does not satisfy dlmkit.interfaces.Teacher: it lacks " in message
    lacking = message.split("it lacks ")[1].split(".")[0]
    assert {"embed", "round", "logits", "embedding_weight", "component", "vocab_size"} <= set(lacking.split(", "))
    assert "denoise," not in lacking and "training" not in lacking  # present ones are not listed
    assert "dlmkit.testing" in message
    with pytest.raises(PluginContractError, match=r"Objective: it lacks generator_every, generator_loss"):
        registry.get("objective", "nothing").factory(None)


def test_a_teacher_that_is_not_a_module_is_reported(site: Path) -> None:
    source = NOT_A_TEACHER.replace("class Half(torch.nn.Module):", "class Half:")
    install(site, source)
    teacher = create_plugins().registry.get("teacher", "half")
    with pytest.raises(PluginContractError, match=r"it is not a torch.nn.Module"):
        teacher.factory(teacher.make_params(), vocab_size=10, seq_len=8)


def test_builtin_components_pass_the_interface_check() -> None:
    registry = create_plugins(load_entry_points=False).registry
    for kind in ("schedule", "objective", "injector", "sampler"):
        for name in registry.names(kind):
            entry = registry.get(kind, name)
            entry.factory(entry.make_params())  # raises PluginContractError if the interface is missed
    toy = registry.get("teacher", "toy")
    toy.factory(toy.make_params(), vocab_size=12, seq_len=8)

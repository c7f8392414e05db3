"""The mistakes a plugin author makes first, and the messages that tell them what to do instead."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.errors import PluginContractError, PluginLoadError
from dlmkit.hook_errors import hook_signatures
from dlmkit.plugins import Plugins, create_plugins, reset_plugins
from dlmkit.recipe.schema import ComponentRef
from tests.fake_dist import make_distribution


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("DLMKIT_STRICT_PLUGINS", raising=False)
    # only this test's plugin and the toy teacher tiny_cpu.toml trains, not the other installed ones
    monkeypatch.setenv("DLMKIT_PLUGINS", "dlmkit_author,toy_teacher")
    reset_plugins()
    yield tmp_path
    sys.modules.pop("dlmkit_author", None)
    reset_plugins()


def install(site: Path, source: str) -> None:
    make_distribution(site, "dlmkit-author", "dlmkit_author", "from dlmkit import hookimpl\nimport attrs\n" + source)


def _failures(plugins: Plugins) -> str:
    """Every failure of this test's plugin, after the registry (where registration errors surface) is built."""
    _ = plugins.registry
    return "\n".join(f.error for f in plugins.failures if f.name == "dlmkit_author")


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
    plugins = create_plugins()
    assert "mine" not in plugins.registry.names("sampler")
    assert re.search(r"params of sampler 'mine' must be an attrs class .*@attrs.frozen", _failures(plugins))


def test_a_name_clash_with_a_builtin_names_both_and_says_how_to_fix_it(site: Path) -> None:
    install(site, "@hookimpl\ndef register_objectives(register):\n    register('sid', lambda p: None)\n")
    plugins = create_plugins()
    assert plugins.registry.get("objective", "sid").provider == "dlmkit"  # the built-in stays; the clash is listed
    message = _failures(plugins)
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
    # ``component`` is never lacking: the registry stamps the registered name on what it builds
    assert {"embed", "round", "logits", "embedding_weight", "vocab_size"} <= set(lacking.split(", "))
    assert "component" not in lacking.split(", ")
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
    for kind in ("schedule", "objective", "injector", "sampler", "teacher_loss", "metric"):
        for name in registry.names(kind):
            entry = registry.get(kind, name)
            entry.build()  # raises PluginContractError if the interface is missed
    registry.build("stage", "train_teacher")
    distill = registry.get("stage", "distill")
    distill.build(distill.make_params(objective=ComponentRef("objective", "sid_gan", None)))
    for name in registry.names("timestep_sampler"):
        registry.build("timestep_sampler", name, num_timesteps=10)
    toy = create_plugins().registry.get("teacher", "toy")  # from the dlmkit-toy-teacher plugin package
    assert toy.build(vocab_size=12, seq_len=8).component == "toy"


def test_a_plugin_that_exits_on_import_is_listed_as_failed_not_fatal(site: Path) -> None:
    install(site, "raise SystemExit(3)\n")
    assert failure(site) == "SystemExit: 3"
    result = CliRunner().invoke(cli, ["components", "objective", "--json"])
    assert result.exit_code == 0 and "sid_gan" in result.output


def test_a_registration_hook_that_raises_leaves_every_other_component(site: Path) -> None:
    install(site, "@hookimpl\ndef register_samplers(register):\n    raise RuntimeError('boom')\n")
    plugins = create_plugins()
    assert _failures(plugins) == "RuntimeError: boom"
    assert "one_step" in plugins.registry.names("sampler")
    result = CliRunner().invoke(cli, ["validate", str(Path(__file__).parents[1] / "recipes" / "tiny_cpu.toml")])
    assert result.exit_code == 0, result.output


def test_a_command_hook_that_raises_leaves_help_working(site: Path) -> None:
    install(site, "@hookimpl\ndef register_commands(cli):\n    raise ValueError('no commands today')\n")
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0 and "validate" in result.output
    assert "plugin 'dlmkit_author' (dlmkit-author 0.0.1) raised in register_commands" in result.output


def test_a_lifecycle_hook_that_raises_is_reported_once_and_skipped(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(site, "@hookimpl\ndef on_log(stage, step, metrics):\n    raise KeyError('oops')\n")
    plugins = create_plugins()
    for step in range(3):
        plugins.notify("on_log", stage="s", step=step, metrics={})
    assert capsys.readouterr().err.count("raised in on_log: KeyError: 'oops'") == 1
    assert [f.error for f in plugins.failures] == ["KeyError: 'oops'"]


def test_validate_builds_each_objective_and_names_what_it_lacks(site: Path) -> None:
    install(
        site,
        "class Half:\n    generator_every = 1\n    uses_real_data = False\n"
        "    def psi_loss(self, ctx):\n        return None\n\n"
        "@hookimpl\ndef register_objectives(register):\n    register('half', lambda params: Half())\n",
    )
    recipe = str(Path(__file__).parents[1] / "recipes" / "tiny_cpu.toml")
    result = CliRunner().invoke(cli, ["validate", recipe, "--set", 'stage.stage1.objective={name="half"}'])
    assert result.exit_code == 2, result.output
    assert '[[stage]] "stage1" objective' in result.output and "it lacks generator_loss" in result.output


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("steps: int = 2.5", "has default steps = 2.5, which is not a int"),
        (
            "scale: float = attrs.field(default=-1.0, validator=attrs.validators.gt(0))",
            "has defaults that fail its own validators",
        ),
    ],
)
def test_a_plugins_own_bad_default_is_blamed_on_the_plugin_at_registration(
    site: Path, field: str, message: str
) -> None:
    install(
        site,
        f"@attrs.frozen\nclass P:\n    {field}\n\n"
        "@hookimpl\ndef register_samplers(register):\n    register('mine', lambda p: p, params=P)\n",
    )
    plugins = create_plugins()
    assert "mine" not in plugins.registry.names("sampler")
    assert "the params of sampler 'mine' (P) " + message in _failures(plugins)


def test_a_teacher_file_whose_plugin_failed_to_import_names_that_failure(site: Path, tmp_path: Path) -> None:
    from dlmkit.errors import CheckpointError
    from dlmkit.storage.teacher_files import load_teacher, save_teacher
    from dlmkit.testing.toy_teacher import ToyTeacherParams, build_toy_teacher

    install(site, "raise ImportError('No module named fancy_kernels')\n")
    teacher = build_toy_teacher(ToyTeacherParams(), vocab_size=20, seq_len=8)
    teacher.component = "mine"  # the name the broken plugin would have registered
    save_teacher(teacher, tmp_path / "mine.safetensors", {})
    with pytest.raises(CheckpointError) as caught:
        load_teacher(tmp_path / "mine.safetensors")
    message = str(caught.value)
    assert "no teacher named 'mine'" in message
    assert "dlmkit-author (ImportError: No module named fancy_kernels)" in message


OBJ = "@hookimpl\ndef register_objectives(register):\n"
NINE_FAILURES = {
    "a raising hook": (OBJ + "    raise RuntimeError('boom')\n", "RuntimeError: boom"),
    "SystemExit in registration": (OBJ + "    raise SystemExit(0)\n", "SystemExit: 0"),
    "KeyboardInterrupt in registration": (OBJ + "    raise KeyboardInterrupt('mine')\n", "KeyboardInterrupt: mine"),
    "a default of the wrong type": (
        "@attrs.frozen\nclass P:\n    alpha: float = 'high'\n" + OBJ + "    register('mine', lambda p: None, P)\n",
        "has default alpha = 'high', which is not a float",
    ),
    "a default its validator refuses": (
        "@attrs.frozen\nclass P:\n    n: int = attrs.field(default=0, validator=attrs.validators.gt(0))\n"
        + OBJ
        + "    register('mine', lambda p: None, P)\n",
        "has defaults that fail its own validators",
    ),
    "params that are not attrs": (
        "class P:\n    alpha = 1.0\n" + OBJ + "    register('mine', lambda p: None, P)\n",
        "must be an attrs class",
    ),
    "an empty name": (OBJ + "    register('', lambda p: None)\n", "with an empty or non-string name"),
    "a path-like name": (OBJ + "    register('../mine', lambda p: None)\n", "a name is letters, digits"),
    "registering itself twice": (
        OBJ + "    register('mine', lambda p: None)\n    register('mine', lambda p: None)\n",
        "'mine'",
    ),
}


@pytest.mark.parametrize("case", sorted(NINE_FAILURES))
def test_every_kind_of_registration_failure_is_listed_by_plugins_json(site: Path, case: str) -> None:
    source, expected = NINE_FAILURES[case]
    install(site, source)
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    failed = json.loads(result.output)["failed"]
    assert [f["name"] for f in failed] == ["dlmkit_author"] and expected in failed[0]["error"], failed
    assert "mine" not in CliRunner().invoke(cli, ["components", "objective"]).output  # nothing half-registered


def test_a_plugin_whose_import_hangs_does_not_hang_dlmkit(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLMKIT_PLUGIN_TIMEOUT", "1")
    monkeypatch.setenv("DLMKIT_PLUGINS", "dlmkit_hangs")
    # its own module name: the import stays stuck in its thread (holding that module's import lock) for a while
    make_distribution(site, "dlmkit-hangs", "dlmkit_hangs", "import time\ntime.sleep(60)\n")
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0 and time.monotonic() - started < 30
    (failed,) = json.loads(result.output)["failed"]
    assert failed["name"] == "dlmkit_hangs" and "did not return within 1 s" in failed["error"]


def test_a_hanging_hook_is_left_behind_and_skipped(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DLMKIT_PLUGIN_TIMEOUT", "0.5")
    install(site, "import time\n@hookimpl\ndef on_log(stage, step, metrics):\n    time.sleep(60)\n")
    plugins = create_plugins()
    started = time.monotonic()
    for step in range(3):
        plugins.notify("on_log", stage="s", step=step, metrics={})
    assert time.monotonic() - started < 10  # one deadline, then the hook is skipped
    assert capsys.readouterr().err.count("on_log did not return within 0.5 s") == 1


def test_a_hook_that_edits_what_it_is_given_changes_nothing_of_the_run(site: Path) -> None:
    install(
        site,
        "@hookimpl\ndef on_stage_end(stage, kind, run_dir, summary):\n"
        "    summary['complete'] = False\n    summary.clear()\n",
    )
    plugins = create_plugins()
    summary = {"complete": True, "steps": 8}
    plugins.notify("on_stage_end", stage="s", kind="distill", run_dir=site, summary=summary)
    assert summary == {"complete": True, "steps": 8} and plugins.failures == []


def test_a_ctrl_c_while_a_hook_runs_is_the_users_not_the_plugins(site: Path) -> None:
    from dlmkit.plugin_deadline import raised_by_plugin

    install(site, "@hookimpl\ndef on_log(stage, step, metrics):\n    raise KeyboardInterrupt('from the plugin')\n")
    plugins = create_plugins()
    plugins.notify("on_log", stage="s", step=0, metrics={})  # the plugin's own interrupt: reported, not fatal
    assert [f.error for f in plugins.failures] == ["KeyboardInterrupt: from the plugin"]
    assert not raised_by_plugin(KeyboardInterrupt())  # a signal that reaches dlmkit is not marked, so it stops it

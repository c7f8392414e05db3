"""Plugin loading: built-ins register through hooks, broken plugins are isolated, conflicts are errors."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.errors import PluginLoadError
from dlmkit.plugins import create_plugins, reset_plugins
from tests.fake_dist import make_distribution

GOOD = """
import attrs
from dlmkit import hookimpl

@attrs.frozen
class EchoParams:
    k: int = 3

@hookimpl
def register_schedules(register):
    from dlmkit.schedules.sqrt import build_sqrt_schedule, SqrtScheduleParams
    register("echo_sqrt", build_sqrt_schedule, params=SqrtScheduleParams, summary="sqrt, again")
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("DLMKIT_STRICT_PLUGINS", raising=False)
    reset_plugins()
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("dlmkit_fake")]:
        del sys.modules[name]
    reset_plugins()


def test_builtins_are_registered_with_their_provider() -> None:
    registry = create_plugins(load_entry_points=False).registry
    assert registry.get("schedule", "sqrt").provider == "dlmkit"
    assert {"sqrt", "linear", "cosine"} <= set(registry.names("schedule"))
    assert {"train_teacher", "distill"} == set(registry.names("stage"))
    assert {"diffuseq"} <= set(registry.names("teacher_loss"))
    assert {"uniform", "lossaware"} <= set(registry.names("timestep_sampler"))
    assert "toy" not in registry.names("teacher")  # a test helper, not a built-in of every install


def test_the_toy_teacher_comes_from_its_own_plugin_package() -> None:
    entry = create_plugins().registry.get("teacher", "toy")
    assert entry.provider == "dlmkit-toy-teacher"


def test_third_party_plugin_registers_through_entry_point(site: Path) -> None:
    make_distribution(site, "dlmkit-fake-good", "dlmkit_fake_good", GOOD)
    plugins = create_plugins()
    entry = plugins.registry.get("schedule", "echo_sqrt")
    assert (entry.provider, entry.version) == ("dlmkit-fake-good", "0.0.1")


def test_plugin_whose_import_raises_is_listed_and_cli_still_works(site: Path) -> None:
    make_distribution(site, "dlmkit-fake-broken", "dlmkit_fake_broken", "raise RuntimeError('boom at import')\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    failed = {f["name"]: f for f in data["failed"]}
    assert failed["dlmkit_fake_broken"]["distribution"] == "dlmkit-fake-broken"
    assert "boom at import" in failed["dlmkit_fake_broken"]["error"]
    result = runner.invoke(cli, ["components", "schedule", "--json"])
    assert result.exit_code == 0
    assert "sqrt" in {c["name"] for c in json.loads(result.output)}


def test_strict_mode_turns_a_broken_plugin_into_an_error(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_distribution(site, "dlmkit-fake-broken2", "dlmkit_fake_broken2", "raise ImportError('missing dep')\n")
    monkeypatch.setenv("DLMKIT_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match=r"dlmkit-fake-broken2.*missing dep"):
        create_plugins()


def test_misspelt_hook_is_reported_with_the_plugin_name(site: Path) -> None:
    source = "from dlmkit import hookimpl\n\n@hookimpl\ndef register_teacher(register):\n    pass\n"
    make_distribution(site, "dlmkit-fake-typo", "dlmkit_fake_typo", source)
    plugins = create_plugins()
    (failure,) = [f for f in plugins.failures if f.name == "dlmkit_fake_typo"]
    assert "register_teacher" in failure.error


def test_hook_with_wrong_arguments_is_reported(site: Path) -> None:
    source = "from dlmkit import hookimpl\n\n@hookimpl\ndef register_teachers(reg, extra):\n    pass\n"
    make_distribution(site, "dlmkit-fake-args", "dlmkit_fake_args", source)
    plugins = create_plugins()
    assert any(f.name == "dlmkit_fake_args" and "extra" in f.error for f in plugins.failures)


def test_two_providers_of_one_name_is_an_error_naming_both(site: Path) -> None:
    clash = GOOD.replace('"echo_sqrt"', '"sqrt"')
    make_distribution(site, "dlmkit-fake-clash", "dlmkit_fake_clash", clash)
    plugins = create_plugins()
    assert plugins.registry.get("schedule", "sqrt").provider == "dlmkit"
    failed = [f for f in plugins.failures if f.name == "dlmkit_fake_clash"]
    assert failed and re.search(r"schedule 'sqrt'.*dlmkit 0\.1\.0.*dlmkit-fake-clash 0\.0\.1", failed[0].error)


def test_params_must_be_an_attrs_class(site: Path) -> None:
    source = GOOD.replace("params=SqrtScheduleParams", "params=dict")
    make_distribution(site, "dlmkit-fake-params", "dlmkit_fake_params", source)
    plugins = create_plugins()
    _ = plugins.registry
    assert any(re.search(r"dlmkit-fake-params.*attrs class", f.error) for f in plugins.failures)


def test_components_lists_parameters_with_types_and_defaults() -> None:
    result = CliRunner().invoke(cli, ["components", "schedule", "--json"])
    sqrt = next(c for c in json.loads(result.output) if c["name"] == "sqrt")
    params = {p["name"]: p for p in sqrt["parameters"]}
    assert params["num_timesteps"]["default"] == 2000
    assert params["num_timesteps"]["type"] == "an integer"

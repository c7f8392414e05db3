"""A plugin component that raises, exits or interrupts is named, with exit 2, and never ends a run as finished."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.hookspecs import Register, hookimpl
from dlmkit.testing.temporary_plugin import temporary_plugin
from tests.misbehaving.plugin import MODE, Misbehaving
from tests.test_pipeline import SHORT, TINY


@pytest.fixture
def misbehaving() -> Iterator[None]:
    with temporary_plugin(Misbehaving(), "misbehaving"):
        yield


def run(tmp_path: Path, mode: str, *overrides: str) -> tuple[int, str]:
    MODE["now"] = mode
    args = ["run", str(TINY), "--output-dir", str(tmp_path / "run"), "--no-progress"]
    result = CliRunner().invoke(cli, [*args, *(a for o in [*SHORT, *overrides] for a in ("--set", o))])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("mode", "raised"),
    [
        ("exit0", "SystemExit(0)"),
        ("interrupt", "KeyboardInterrupt(from the plugin)"),
        ("raise", "ValueError: the plugin's own bug"),
    ],
)
def test_a_failing_objective_is_named_with_exit_2(tmp_path: Path, misbehaving: None, mode: str, raised: str) -> None:
    code, output = run(tmp_path, mode, 'stage.stage1.objective={name = "misbehaving"}')
    assert code == 2, output
    assert "plugin 'misbehaving' (tests 0), in tests.misbehaving.plugin.misbehave" in output
    assert raised in output and "run finished" not in output and "Aborted" not in output


def test_a_failing_metric_in_eval_is_named(tmp_path: Path, misbehaving: None) -> None:
    (tmp_path / "out.jsonl").write_text('{"recover": "a b", "reference": "a b", "source": "c"}\n')
    MODE["now"] = "exit0"
    result = CliRunner().invoke(cli, ["eval", str(tmp_path / "out.jsonl"), "--metrics", "misbehaving"])
    assert result.exit_code == 2 and "plugin 'misbehaving'" in result.output and "SystemExit(0)" in result.output


def test_dlmkit_own_exit_codes_are_left_alone(tmp_path: Path, misbehaving: None) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("schema_version = 1\n")
    result = CliRunner().invoke(cli, ["validate", str(bad)])
    assert result.exit_code == 2 and "plugin" not in result.output


class Replacer:
    """Registers the toy teacher's name again, on purpose."""

    @hookimpl
    def register_teachers(self, register: Register) -> None:
        from dlmkit.testing.toy_teacher import ToyTeacherParams, build_toy_teacher

        register("toy", build_toy_teacher, params=ToyTeacherParams, summary="a replacement", override=True)


def test_a_replaced_component_is_listed_and_said_at_the_start_of_a_run(tmp_path: Path) -> None:
    with temporary_plugin(Replacer(), "replacer"):
        listed = json.loads(CliRunner().invoke(cli, ["plugins", "--json"]).output)
        assert {
            "kind": "teacher",
            "name": "toy",
            "provider": "tests 0",
            "replaces": "dlmkit-toy-teacher 0.1.0",
        } in listed["replaced"]
        code, output = run(tmp_path, "raise", "stage.stage1.steps=2", "stage.stage2.steps=2")
    assert code == 0, output
    assert "note: teacher 'toy' comes from tests 0, replacing dlmkit-toy-teacher 0.1.0's" in output

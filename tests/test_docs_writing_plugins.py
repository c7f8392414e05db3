"""docs/writing-plugins.md works literally: every code block is written or run, in order, like a new user would.

Each fenced block carries a marker comment: ``file`` (write it), ``append`` (add it to a file),
``replace-table`` (swap a TOML table in a file) or ``shell`` (run it with bash in a folder).
The shell blocks run against a throwaway virtual environment that sees dlmkit's environment
through a ``.pth`` file, so ``pip install -e .`` installs the tutorial's package there and
nowhere else.  ``pip`` and ``dlmkit`` are small wrappers: ``pip install`` gets ``--no-deps
--no-build-isolation`` (the test machine is offline; a user's pip fetches setuptools itself).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import attrs
import pytest
import tomllib

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "writing-plugins.md"
BLOCK = re.compile(r"<!-- (file|append|replace-table|shell): (\S+) -->\n```(\w*)\n(.*?)^```$", re.S | re.M)
FENCE = re.compile(r"^```", re.M)


@attrs.frozen
class Block:
    action: str
    target: str
    language: str
    body: str


def blocks(text: str) -> list[Block]:
    return [Block(*match.groups()) for match in BLOCK.finditer(text)]


def data_root() -> Path:
    if os.environ.get("DLMKIT_DATA_ROOT"):
        return Path(os.environ["DLMKIT_DATA_ROOT"])
    tiny = tomllib.loads((REPO / "recipes" / "tiny_cpu.toml").read_text())
    return (REPO / "recipes" / tiny["data"]["root"]).resolve()


def test_every_code_block_is_marked_and_there_are_no_indented_ones() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = blocks(text)
    assert len(FENCE.findall(text)) == 2 * len(found), "a fenced block without a marker comment before it"
    assert {b.action for b in found} == {"file", "append", "replace-table", "shell"}
    outside = FENCE.split(text)[::2]
    for part in outside:
        lines = part.splitlines()
        for before, line in itertools.pairwise(lines):
            assert not (before.strip() == "" and line.startswith("    ")), f"indented code block: {line!r}"


def replace_table(text: str, table: str) -> str:
    """``text`` with the first table named like ``table``'s header replaced by ``table``."""
    header = table.splitlines()[0].strip()
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == header)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    return "".join([*lines[:start], table, *lines[end:]])


def make_venv(path: Path) -> Path:
    """A venv without pip that sees this environment's packages; ``pip``/``dlmkit`` wrappers in its bin."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(purelib, "_dlmkit_parent_env.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    wrappers = {
        "pip": f'if [ "$1" = install ]; then shift; exec "{python}" -m pip install -q --no-deps '
        f'--no-build-isolation "$@"; fi\nexec "{python}" -m pip "$@"\n',
        "dlmkit": f'exec "{python}" -c "import sys; sys.argv[0] = \'dlmkit\'; from dlmkit.cli.main import main; '
        f'main()" "$@"\n',
    }
    for name, body in wrappers.items():
        script = path / "bin" / name
        script.write_text("#!/usr/bin/env bash\nset -euo pipefail\n" + body)
        script.chmod(0o755)
    return path


def run_shell(script: str, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    return result.stdout


def test_the_tutorial_works_as_written(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv")
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "DLMKIT_DATA_ROOT": str(data_root()),
        "DLMKIT_STRICT_PLUGINS": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "COLUMNS": "200",
    }
    for name in ("PYTHONPATH", "DLMKIT_PLUGINS", "DLMKIT_DISABLE_PLUGIN_AUTOLOAD", "DLMKIT_CSV_LOG"):
        env.pop(name, None)
    outputs = []
    for block in blocks(DOC.read_text(encoding="utf-8")):
        target = work / block.target
        if block.action == "file":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body, encoding="utf-8")
        elif block.action == "append":
            target.write_text(target.read_text(encoding="utf-8") + block.body, encoding="utf-8")
        elif block.action == "replace-table":
            target.write_text(replace_table(target.read_text(encoding="utf-8"), block.body), encoding="utf-8")
        else:
            outputs.append(run_shell(block.body, target, env))

    plugin_dir = work / "my-dlmkit-plugin"
    listing = json.loads(run_shell("dlmkit plugins --json", plugin_dir, env))
    mine = next(p for p in listing["plugins"] if p["name"] == "my_plugin")
    assert mine["distribution"] == "my-dlmkit-plugin"
    assert mine["hooks"] == ["register_objectives", "register_teachers"]
    assert listing["failed"] == []
    assert "my_plugin" in outputs[1]  # the tutorial's own `dlmkit plugins`

    for run, objective_term in (("sid_gan", "g_sid"), ("diff_instruct", "g_di_step")):
        folder = plugin_dir / "runs" / run
        results = json.loads((folder / "results.json").read_text())
        assert results["student"]["nfe"] == 1
        logged = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
        assert any(objective_term in r for r in logged if r["stage"] == "distill"), run
    assert "bigru" in (plugin_dir / "runs" / "diff_instruct" / "resolved.toml").read_text()

    # Part 3: a stage kind, a teacher loss and a metric from a package of their own
    kd = work / "my-dlmkit-stage" / "runs" / "kd"
    logged = [json.loads(line) for line in (kd / "metrics.jsonl").read_text().splitlines()]
    assert any("nll" in r and "tT" not in r for r in logged if r["stage"] == "teacher")  # the plugin's loss trained it
    assert sum("kd_loss" in r for r in logged if r["stage"] == "kd") == 2  # steps 2 and 4 of the plugin's stage
    state = json.loads((kd / "run_state.json").read_text())
    assert state["stages"]["kd"]["kind"] == "kd_student"
    assert (kd / state["stages"]["kd"]["artifacts"]["student"]).is_file()
    results = json.loads((kd / "results.json").read_text())
    assert results["student"]["nfe"] == 1 and 0.0 <= results["student"]["exact_match"] <= 1.0


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("[b]\nx = 2\n", "[a]\nk = 1\n[b]\nx = 2\n[c]\n"),
        ("[c]\ny = 3\n", "[a]\nk = 1\n[b]\nx = 1\n[c]\ny = 3\n"),
    ],
)
def test_replace_table_swaps_only_the_named_table(table: str, expected: str) -> None:
    assert replace_table("[a]\nk = 1\n[b]\nx = 1\n[c]\n", table) == expected


#: What a plugin may import: the surface CHANGELOG.md's deprecation policy covers.
PUBLIC = {
    "dlmkit",
    "dlmkit.errors",
    "dlmkit.hookspecs",
    "dlmkit.interfaces",
    "dlmkit.metrics.cleaning",
    "dlmkit.objectives.toolkit",
    "dlmkit.plugins",
    "dlmkit.samplers.toolkit",
    "dlmkit.stages.toolkit",
    "dlmkit.testing",
}


def test_the_tutorial_imports_only_public_modules() -> None:
    imported = {
        match
        for block in blocks(DOC.read_text(encoding="utf-8"))
        if block.language == "python"
        for match in re.findall(r"^\s*(?:from|import) (dlmkit[\w.]*)", block.body, re.M)
    }
    assert imported and imported <= PUBLIC, sorted(imported - PUBLIC)

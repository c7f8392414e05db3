"""Data parallelism through torchrun on the CPU (gloo): same losses as one process, one set of files,
and a failing rank stops every rank with that rank's error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fake_dist import make_distribution

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "recipes" / "tiny_cpu.toml"
SHORT = [
    "stage.teacher.steps=4",
    "stage.teacher.log_every=1",
    "stage.teacher.eval_every=0",
    "stage.teacher.ckpt_every=2",
    "stage.stage1.steps=2",
    "stage.stage2.steps=2",
    "eval.num_samples=8",
    "eval.teacher_steps=10",
]


def dlmkit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    sets = [a for s in SHORT for a in ("--set", s)]
    return subprocess.run(
        [sys.executable, "-m", "dlmkit", "run", str(TINY), *sets, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )


def teacher_losses(run: Path) -> list[float]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in rows if r["stage"] == "teacher" and "loss" in r]


@pytest.mark.slow
def test_two_processes_match_one_process_and_write_one_set_of_checkpoints(tmp_path: Path) -> None:
    two = dlmkit("--nproc", "2", "--output-dir", str(tmp_path / "two"))
    assert two.returncode == 0, two.stdout + two.stderr
    assert "2 processes x 16" in two.stderr  # the effective batch is stated
    one = dlmkit("--output-dir", str(tmp_path / "one"))
    assert one.returncode == 0, one.stdout + one.stderr
    losses_two, losses_one = teacher_losses(tmp_path / "two"), teacher_losses(tmp_path / "one")
    assert len(losses_two) == len(losses_one) == 4  # logged once (rank 0), not once per rank
    for a, b in zip(losses_two, losses_one, strict=True):
        assert a == pytest.approx(b, rel=1e-5)
    ckpts = sorted(p.name for p in (tmp_path / "two" / "teacher" / "ckpt").iterdir())
    assert ckpts == ["latest", "step_0000002", "step_0000004"]
    assert json.loads((tmp_path / "two" / "results.json").read_text())["student"]["nfe"] == 1


BOMB = """
import os
import attrs
from dlmkit import hookimpl
from dlmkit.objectives.sid_gan import SidGan, SidGanParams


class Bomb(SidGan):
    calls = 0

    def generator_loss(self, ctx):
        Bomb.calls += 1
        if os.environ.get("RANK") == "1" and Bomb.calls == 2:
            raise RuntimeError("rank 1 exploded on purpose")
        return super().generator_loss(ctx)


@hookimpl
def register_objectives(register):
    register("bomb", Bomb, params=SidGanParams, summary="sid_gan that fails on rank 1")
"""


@pytest.mark.slow
def test_a_failing_rank_stops_the_run_with_its_error(tmp_path: Path) -> None:
    site = make_distribution(tmp_path / "site", "dlmkit-fake-bomb", "dlmkit_fake_bomb", BOMB)
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    result = dlmkit(
        "--nproc", "2", "--output-dir", str(tmp_path / "r"), "--set", 'stage.stage1.objective={name = "bomb"}', env=env
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "rank 1 of 2 failed" in output
    assert "rank 1 exploded on purpose" in output

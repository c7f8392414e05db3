"""The shared step loop: a runner that supplies only its step, validation and state gets resume,
cadences and the deadline from ``run_steps``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import attrs
import pytest
import torch

from dlmkit.engine.context import RunContext
from dlmkit.engine.distributed import World
from dlmkit.engine.step_loop import LoopSettings, RunningMeans, run_steps


@attrs.define
class FakeRun:
    """The four things ``run_steps`` reads from a run context."""

    metrics_log: Path
    resume: bool = False
    progress_mode: str = "off"
    runtime: Any = attrs.field(factory=lambda: type("R", (), {"world": World()})())


class Crash(Exception):
    pass


class Walker:
    """A random walk with an optimiser-free module: its end state depends on every draw in order."""

    def __init__(self, crash_at: int | None = None) -> None:
        self.net = torch.nn.Linear(3, 1, bias=False)
        torch.nn.init.zeros_(self.net.weight)
        self.stream = torch.Generator().manual_seed(7)
        self.crash_at = crash_at
        self.validated: list[int] = []

    def note(self) -> str:
        return "walking"

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"net": self.net}

    def state_dict(self) -> dict[str, Any]:
        return {"stream": self.stream.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stream.set_state(state["stream"])

    def step(self, step: int, means: RunningMeans) -> None:
        if step == self.crash_at:
            raise Crash
        with torch.no_grad():
            self.net.weight += torch.randn(1, 3, generator=self.stream)
        means.record({"norm": float(self.net.weight.detach().norm())})

    def log_extras(self) -> dict[str, float]:
        return {"extra": 1.0}

    def validate(self, step: int) -> dict[str, float]:
        self.validated.append(step)
        return {"val": float(step)}

    def done(self, step: int) -> None:
        pass


def _run(tmp_path: Path, runner: Walker, resume: bool, **settings: Any) -> Any:
    run = FakeRun(tmp_path / "metrics.jsonl", resume=resume)
    values = {"steps": 6, "log_every": 2, "eval_every": 3, "ckpt_every": 2, "max_minutes": None, **settings}
    return run_steps(cast(RunContext, run), "walk", "walker", runner, LoopSettings(**values), tmp_path / "ckpt")


def test_a_crashed_runner_resumes_to_the_same_end_as_an_uninterrupted_one(tmp_path: Path) -> None:
    straight = Walker()
    assert _run(tmp_path / "a", straight, resume=False).complete
    with pytest.raises(Crash):
        _run(tmp_path / "b", Walker(crash_at=5), resume=False)  # checkpoints at steps 2 and 4 survive
    resumed = Walker()
    end = _run(tmp_path / "b", resumed, resume=True)
    assert end.step == 6 and end.complete
    assert torch.equal(resumed.net.weight, straight.net.weight)
    assert resumed.validated == [6]  # step 3 was validated before the crash; 6 after resuming from 4


def test_cadences_and_first_and_last_validation(tmp_path: Path) -> None:
    walker = Walker()
    _run(tmp_path, walker, resume=False, steps=5, eval_every=2, validate_first=True, validate_last=True)
    assert walker.validated == [0, 2, 4, 5]
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    logged = [line for line in lines if '"norm"' in line]
    assert len(logged) == 3  # steps 2, 4 and the last (5)
    assert all('"extra": 1.0' in line and '"steps_per_s"' in line for line in logged)
    assert sorted(p.name for p in (tmp_path / "ckpt").glob("step_*")) == ["step_0000004", "step_0000005"]


def test_running_means_count_whole_values_not_parts() -> None:
    means = RunningMeans()
    for parts in ([1.0, 3.0], [5.0, 7.0]):  # two steps of two microbatch parts each
        for part in parts:
            means.add("loss", part)
        means.count("loss")
    means.record({"lr": 0.5})
    assert means.pop() == {"loss": 8.0, "lr": 0.5}
    assert means.pop() == {}

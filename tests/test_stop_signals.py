"""SIGTERM or Ctrl-C during a run: the step finishes, a checkpoint is written, the exit code says which
signal (143 / 130), and ``--resume`` reaches the same weights as a run that was never stopped; during the
final evaluation, with nothing left to save, the run stops at once."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.engine import final_eval
from dlmkit.engine.pipeline import run_recipe
from dlmkit.engine.stop_request import StopNow, StopRequest
from dlmkit.errors import RunInterrupted
from dlmkit.hookspecs import hookimpl
from dlmkit.plugins import get_plugins
from dlmkit.recipe.load import load_recipe
from tests.test_pipeline import SHORT, TINY, _final_weights

OVERRIDES = [*SHORT, "stage.teacher.log_every=1", "stage.stage2.log_every=1"]


class SignalAt:
    """Sends this process ``sig`` when ``stage`` logs ``key`` at ``step``, as a scheduler or Ctrl-C would."""

    def __init__(self, stage: str, step: int, key: str, sig: signal.Signals = signal.SIGTERM):
        self.stage, self.step, self.key, self.sig = stage, step, key, sig

    @hookimpl
    def on_log(self, stage: str, step: int, metrics: dict[str, float]) -> None:
        if stage == self.stage and step == self.step and self.key in metrics:
            os.kill(os.getpid(), self.sig)


def _signalled_run(sender: SignalAt, run: Path) -> RunInterrupted:
    plugins = get_plugins()
    plugins.manager.register(sender, name="signal-sender")
    try:
        with pytest.raises(RunInterrupted) as caught:
            run_recipe(load_recipe(TINY, OVERRIDES), output_dir=run, progress=False)
    finally:
        plugins.manager.unregister(sender)
    return caught.value


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> dict[str, torch.Tensor]:
    run = tmp_path_factory.mktemp("straight") / "run"
    run_recipe(load_recipe(TINY, OVERRIDES), output_dir=run, progress=False)
    return _final_weights(run)


@pytest.mark.parametrize(
    ("stage", "step", "key"), [("teacher", 3, "loss"), ("stage1", 5, "g_loss"), ("stage2", 1, "g_loss")]
)
def test_sigterm_at_any_moment_resumes_to_the_same_weights(
    tmp_path: Path, straight: dict[str, torch.Tensor], stage: str, step: int, key: str
) -> None:
    run = tmp_path / "run"
    before = signal.getsignal(signal.SIGTERM)
    stopped = _signalled_run(SignalAt(stage, step, key), run)
    assert signal.getsignal(signal.SIGTERM) is before  # the run's handler is gone with the run
    assert stopped.exit_code == 143 and "SIGTERM" in str(stopped) and "--resume" in str(stopped)
    latest = (run / stage / "ckpt" / "latest").read_text().strip()
    assert latest == f"step_{step:07d}"  # saved at the step the signal arrived in, not the last ckpt_every
    run_recipe(load_recipe(TINY, OVERRIDES), output_dir=run, resume=True, progress=False)
    resumed = _final_weights(run)
    assert resumed.keys() == straight.keys()
    for name, value in straight.items():
        assert torch.equal(value, resumed[name]), name


def test_ctrl_c_through_the_command_exits_130_and_says_how_to_resume(tmp_path: Path) -> None:
    sender = SignalAt("stage1", 3, "g_loss", signal.SIGINT)
    before = signal.getsignal(signal.SIGINT)  # the default handler, or SIG_IGN under a background shell
    plugins = get_plugins()
    plugins.manager.register(sender, name="signal-sender")
    try:
        args = ["run", str(TINY), "--output-dir", str(tmp_path / "run"), "--no-progress"]
        result = CliRunner().invoke(cli, [*args, *(a for o in OVERRIDES for a in ("--set", o))])
    finally:
        plugins.manager.unregister(sender)
    assert result.exit_code == 130, result.output
    assert "stopped by SIGINT with a checkpoint written" in result.output and "--resume" in result.output
    assert "Aborted" not in result.output and "Traceback" not in result.output
    state = json.loads((tmp_path / "run" / "run_state.json").read_text())
    assert state["stages"]["stage1"]["summary"]["complete"] is False
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored after the run


def test_a_stop_during_the_final_evaluation_ends_it_at_once_and_resume_finishes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evaluation has nothing to save, so the first signal ends it where it is (a QQP teacher's 2000-step
    sampling takes minutes); the stages stay finished and ``--resume`` runs only the evaluation."""
    run, calls = tmp_path / "run", []
    real_generate = final_eval.generate

    def generate_after_a_sigterm(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        return real_generate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(final_eval, "generate", generate_after_a_sigterm)
    with pytest.raises(RunInterrupted) as caught:
        run_recipe(load_recipe(TINY, OVERRIDES), output_dir=run, progress=False)
    stopped = str(caught.value)
    assert caught.value.exit_code == 143 and "during the final evaluation" in stopped and "--resume" in stopped
    assert calls == [1]  # stopped inside the first generation, not after the whole evaluation
    state = json.loads((run / "run_state.json").read_text())
    assert "results" not in state and all(s["summary"]["complete"] for s in state["stages"].values())
    assert not (run / "results.json").exists()
    run_recipe(load_recipe(TINY, OVERRIDES), output_dir=run, resume=True, progress=False)
    assert len(calls) > 1 and "student" in json.loads((run / "results.json").read_text())


def test_a_stop_request_waits_outside_at_once_and_not_inside_it() -> None:
    waiting = StopRequest()
    waiting.handle(signal.SIGTERM, None)  # recorded for the step loop to see; nothing raised
    assert waiting.requested and waiting.exit_code == 143
    with pytest.raises(StopNow, match="SIGTERM"), waiting.at_once():  # pending on entry: stop before any work
        pytest.fail("the block ran although a stop was pending")
    now = StopRequest()
    with pytest.raises(StopNow, match="SIGINT"), now.at_once():
        now.handle(signal.SIGINT, None)
    assert not now.immediate  # left as it was after the block

"""The step loop every training stage shares: resume, deadline, logging, validation, checkpoints.

A stage kind supplies a ``StepRunner`` (its step, its validation, its state); this module owns
everything around it, so a new stage kind gets ``--resume``, ``max_minutes``, ``metrics.jsonl``,
the progress display and atomic checkpoints without writing any of them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs
import torch
from torch import nn

from dlmkit.engine import stop_request
from dlmkit.engine.distributed import World
from dlmkit.engine.progress import StageProgress, console
from dlmkit.interfaces.objective import Scalar
from dlmkit.interfaces.stage import StageContext
from dlmkit.storage.checkpoint import (
    CheckpointError,
    read_checkpoint,
    restoring,
    resume_checkpoint,
    rng_state,
    set_rng_state,
    write_checkpoint,
)


def agreed_resume_checkpoint(world: World, folder: Path, stage: str) -> Path | None:
    """``resume_checkpoint`` on rank 0 (which may repair the folder); every rank gets its answer or its error."""
    found: Path | None = None
    error: str | None = None
    if world.is_main:
        try:
            found = resume_checkpoint(folder, stage, lambda text: console.print(text, markup=False, highlight=False))
        except CheckpointError as exc:
            error = str(exc)
    found, error = world.broadcast_object((found, error))
    if error is not None:
        raise CheckpointError(error)
    return found


@attrs.define
class RunningMeans:
    """Per-key means of the values logged since the last log line.

    Values may be 0-d tensors left on their device: they are summed there (in float64, as Python sums
    floats) and read once per log line, so training does not wait on the device for every term.
    """

    sums: dict[str, Scalar] = attrs.field(factory=dict)
    counts: dict[str, int] = attrs.field(factory=dict)

    def add(self, key: str, value: Scalar) -> None:
        """Add to ``key``'s sum without counting (a part of one step's value, e.g. one microbatch's)."""
        if isinstance(value, torch.Tensor):
            value = value.detach().to(torch.float32 if value.device.type == "mps" else torch.float64)
        self.sums[key] = self.sums.get(key, 0.0) + value

    def count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def record(self, terms: Mapping[str, Scalar]) -> None:
        """One whole value per key."""
        for key, value in terms.items():
            self.add(key, value)
            self.count(key)

    def pop(self) -> dict[str, float]:
        """The means as floats (one read of the device for all of them), and a fresh start."""
        values = dict(self.sums)
        held = {k: v for k, v in values.items() if isinstance(v, torch.Tensor)}
        if held:
            device = next(iter(held.values())).device
            values.update(zip(held, torch.stack([v.to(device) for v in held.values()]).tolist(), strict=True))
        means = {k: float(v) / max(1, self.counts.get(k, 0)) for k, v in values.items()}
        self.sums, self.counts = {}, {}
        return means


class StepRunner(Protocol):
    """What a stage kind supplies to the shared loop."""

    def note(self) -> str:
        """The line printed when the stage starts (what it trains, for how long, with what batch)."""
        ...

    def modules(self) -> dict[str, nn.Module]:
        """The networks a checkpoint holds, by file name."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything else a bit-identical resume needs (optimisers, RNG streams, counters).

        ``step`` and ``rng`` (the global generators) are the loop's own keys in the checkpoint.
        """
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def step(self, step: int, means: RunningMeans) -> None:
        """Train one step (``step`` steps are done before it), recording its terms into ``means``."""
        ...

    def log_extras(self) -> dict[str, float]:
        """Scalars added to every log line after the means (the learning rate, skipped steps, ...)."""
        ...

    def validate(self, step: int) -> dict[str, float]:
        """Validation scalars after ``step`` steps (main process only)."""
        ...

    def done(self, step: int) -> None:
        """Called once the last step is taken, before the final validation (raise to refuse the result)."""
        ...


@attrs.frozen
class LoopSettings:
    """The cadences a stage table sets; ``validate_first``/``validate_last`` validate at step 0 and at the end."""

    steps: int
    log_every: int
    eval_every: int
    ckpt_every: int
    max_minutes: float | None
    validate_first: bool = False
    validate_last: bool = False

    @classmethod
    def of(cls, params: Any, validate_first: bool = False, validate_last: bool = False) -> LoopSettings:
        """The cadences from a stage's params (``steps``, ``log_every``, ``eval_every``, ``ckpt_every``,
        ``max_minutes``)."""
        p = params
        return cls(p.steps, p.log_every, p.eval_every, p.ckpt_every, p.max_minutes, validate_first, validate_last)


@attrs.frozen
class LoopEnd:
    step: int
    complete: bool


def run_steps(
    ctx: StageContext, name: str, kind: str, runner: StepRunner, settings: LoopSettings, ckpt_dir: Path
) -> LoopEnd:
    """Run ``runner`` to ``settings.steps`` (from its last checkpoint when resuming), or until the deadline."""
    world = ctx.runtime.world
    main = world.is_main
    step = 0
    latest = agreed_resume_checkpoint(world, ckpt_dir, name) if ctx.resume else None
    if latest is not None:
        with restoring(latest):
            state = read_checkpoint(latest, runner.modules())
            runner.load_state_dict(state)
            set_rng_state(state["rng"])
            step = int(state["step"])

    def save() -> None:
        if main:
            state = {"step": step, **runner.state_dict(), "rng": rng_state()}
            write_checkpoint(ckpt_dir, step, runner.modules(), state, {"stage": name, "kind": kind})

    deadline = time.monotonic() + settings.max_minutes * 60 if settings.max_minutes else math.inf
    means = RunningMeans()
    t_last, step_last = time.perf_counter(), step
    with StageProgress(name, settings.steps, ctx.metrics_log, ctx.progress_mode, step, main) as progress:
        progress.note(runner.note())
        if step == 0 and settings.validate_first and settings.eval_every and main:
            progress.log(0, runner.validate(0))
        while step < settings.steps:
            runner.step(step, means)
            step += 1
            progress.advance(step)
            if step % settings.log_every == 0 or step == settings.steps:
                now = time.perf_counter()
                metrics = world.mean(means.pop())
                metrics.update(runner.log_extras())
                metrics["steps_per_s"] = (step - step_last) / max(1e-9, now - t_last)
                progress.log(step, metrics)
                t_last, step_last = now, step
            if settings.eval_every and step % settings.eval_every == 0 and main:
                progress.log(step, runner.validate(step))
            if settings.ckpt_every and step % settings.ckpt_every == 0:
                save()
            if world.broadcast_object(stop_request.current.requested and step < settings.steps):
                save()
                sig = stop_request.current.signal
                progress.note(f"stopped by {sig.name if sig else 'a signal'} at step {step}; checkpoint written")
                return LoopEnd(step, complete=False)
            if world.broadcast_object(time.monotonic() > deadline and step < settings.steps):
                save()
                progress.note(f"stopped after {settings.max_minutes} minutes at step {step}; continue with --resume")
                return LoopEnd(step, complete=False)
        runner.done(step)
        if settings.validate_last and main and (not settings.eval_every or step % settings.eval_every != 0):
            progress.log(step, runner.validate(step))
        save()
        world.barrier()
    return LoopEnd(step, complete=True)

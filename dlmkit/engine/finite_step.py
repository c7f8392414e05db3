"""Whether a training step may be applied (its loss and every gradient finite, decided with one sync), and
the rule that stops a stage after too many skipped steps in a row."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from torch import Tensor

from dlmkit.errors import TrainingDiverged
from dlmkit.storage.checkpoint import latest_checkpoint


def step_is_finite(loss: Tensor, params: Iterable[torch.nn.Parameter]) -> bool:
    """True when ``loss`` and all gradients of ``params`` are finite.

    The checks are stacked on the device and read once, instead of one host sync per parameter
    (hundreds per step for the paper-size teacher on a GPU).
    """
    checks = [torch.isfinite(loss).all(), *(torch.isfinite(p.grad).all() for p in params if p.grad is not None)]
    return bool(torch.stack([c.to(loss.device) for c in checks]).all())


class NonFiniteGuard:
    """Skipped non-finite updates, counted in a row per stream (``"psi"``, ``"generator"``, ...) and in all.

    One place for both stage kinds' rule: a non-finite update is skipped, and ``limit`` of one stream
    in a row stop the stage, naming the last good checkpoint, which ``--resume`` continues from.
    """

    def __init__(self, stage: str, limit: int, ckpt_dir: Path, advice: str) -> None:
        self.stage, self.limit, self.ckpt_dir, self.advice = stage, limit, ckpt_dir, advice
        self.in_row: dict[str, int] = {}
        self.skipped = 0

    def passed(self, stream: str) -> None:
        """A finite update of ``stream``: its run of bad ones ends."""
        self.in_row[stream] = 0

    def failed(self, stream: str, what: str, step: int) -> None:
        """A skipped update of ``stream`` (``what`` names it in the message); raises at the limit."""
        self.skipped += 1
        self.in_row[stream] = bad = self.in_row.get(stream, 0) + 1
        if bad >= self.limit:
            last = latest_checkpoint(self.ckpt_dir)
            raise TrainingDiverged(
                f'[[stage]] "{self.stage}": {bad} non-finite {what} in a row at step {step}; '
                f"last good checkpoint: {last or 'none (stage start)'}; {self.advice}"
            )

"""Cosine annealing of one network's learning rate over its stage, from the table's ``lr`` to ``lr_final``.

A generator that must move fast to become valid keeps chasing psi's lagging picture of it once it is
there; a rate that falls towards the end lets it settle on the balance psi reports (docs/results.md,
"Learned teacher: both targets met").  The rate is a function of the step alone, so a resumed run continues
on the same curve without any saved schedule state.
"""

from __future__ import annotations

import torch

from dlmkit.engine.lr_schedules import cosine_factor


def annealed_factor(lr: float, lr_final: float | None, progress: float) -> float:
    """The rate at ``progress`` (0 at the first step, 1 at the last) as a multiple of ``lr``; 1 without annealing."""
    if lr_final is None or lr == 0.0:
        return 1.0
    progress = min(max(progress, 0.0), 1.0)
    ratio = lr_final / lr
    return ratio + (1.0 - ratio) * cosine_factor(progress)


def factor_at(lr: float, lr_final: float | None, step: int, steps: int) -> float:
    """``annealed_factor`` at iteration ``step`` of a stage of ``steps`` iterations (the first is 0, the last 1)."""
    return annealed_factor(lr, lr_final, step / max(1, steps - 1))


def set_rates(optimizer: torch.optim.Optimizer, base_lrs: list[float], factor: float) -> None:
    """Every parameter group at its own starting rate times ``factor`` (psi's head keeps its ratio to the trunk)."""
    for group, base in zip(optimizer.param_groups, base_lrs, strict=True):
        group["lr"] = base * factor

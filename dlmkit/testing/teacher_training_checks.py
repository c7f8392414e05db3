"""The teacher contract's checks of what training and checkpoints rely on: a save/load round trip that keeps
the weights and predictions, and gradients that reach the weights from the training loss."""

from __future__ import annotations

import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

import torch

from dlmkit.errors import DlmkitError
from dlmkit.interfaces import Batch, NoiseSchedule, Teacher
from dlmkit.testing.objective_contract import ContractViolation
from dlmkit.testing.teacher_support import fail, like, mode, noisy_input


def check_round_trip(teacher: Teacher, seq_len: int) -> None:
    """``save_teacher`` then ``load_teacher`` rebuilds the same network from ``component``/``config``, bit-exactly.

    The teacher's component must be registered (its plugin installed) for ``load_teacher`` to find it.
    """
    from dlmkit.storage.teacher_files import TEACHER_FILE, load_teacher, save_teacher

    device = like(teacher).device
    with tempfile.TemporaryDirectory(prefix="dlmkit-teacher-contract-") as tmp:
        path = Path(tmp) / TEACHER_FILE
        save_teacher(teacher, path)
        try:
            loaded = load_teacher(path)
        except DlmkitError as exc:
            raise ContractViolation(
                f"the saved teacher cannot be rebuilt from its component {teacher.component!r} and config: {exc}"
            ) from exc
    if loaded.component != teacher.component or loaded.config != teacher.config:
        fail(
            f"the rebuilt teacher has component {loaded.component!r} and config {loaded.config!r}; expected "
            f"{teacher.component!r} and {teacher.config!r} (the factory must keep the config it was given, with "
            "vocab_size/seq_len resolved)"
        )
    mine, theirs = teacher.state_dict(), loaded.state_dict()
    if set(mine) != set(theirs):
        fail(f"the rebuilt teacher has different weights: {sorted(set(mine) ^ set(theirs))[:5]}")
    for key, value in mine.items():
        other = theirs[key]
        if tuple(value.shape) != tuple(other.shape) or not torch.equal(value.cpu(), other.cpu()):
            fail(f"weight '{key}' changed in the save/load round trip")
    loaded.to(device)
    with mode(teacher, False), torch.no_grad():
        x_t = noisy_input(teacher, 2, seq_len, 7, 1.0)
        t = torch.tensor([0, teacher.num_timesteps - 1], device=device)
        if not torch.equal(teacher.denoise(x_t, t), loaded.denoise(x_t, t)):
            fail("the rebuilt teacher predicts differently from the saved one (state not in the state_dict?)")


def _training_batch(vocab_size: int, seq_len: int, batch: int, device: torch.device) -> Batch:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab_size, (batch, seq_len), generator=generator)
    cuts = torch.randint(1, max(2, seq_len - 1), (batch,), generator=generator)
    mask = (torch.arange(seq_len)[None, :] >= cuts[:, None]).long()
    return Batch(ids, mask).to(device)


def check_gradients(
    teacher: Teacher,
    vocab_size: int,
    seq_len: int,
    schedule: NoiseSchedule | None = None,
    allow_zero_grad: Collection[str] = (),
) -> None:
    """DiffuSeq's training loss (what ``train_teacher`` minimises) reaches every trainable parameter."""
    from dlmkit.teacher_losses.diffuseq import diffuseq_loss

    if schedule is None:
        from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule

        schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=teacher.num_timesteps))
    device = like(teacher).device
    named = [(n, p) for n, p in teacher.named_parameters() if p.requires_grad]  # type: ignore[attr-defined]
    if not named:
        fail("the teacher has no trainable parameters")
    T = schedule.num_timesteps
    t = torch.tensor([0, T - 1, T // 2], device=device)
    batch = _training_batch(vocab_size, seq_len, len(t), device)
    with mode(teacher, True):
        loss = diffuseq_loss(teacher, schedule, batch, t, torch.Generator().manual_seed(0))["loss"].mean()
        if not bool(torch.isfinite(loss)):
            fail(f"the DiffuSeq training loss is not finite: {float(loss.detach())}")
        grads: tuple[Any, ...] = torch.autograd.grad(loss, [p for _, p in named], allow_unused=True)
    for (name, _), grad in zip(named, grads, strict=True):
        if grad is None:
            fail(
                f"parameter '{name}' gets no gradient from the DiffuSeq training loss: it is not used by denoise, "
                "embed or logits (remove it, or freeze it with requires_grad_(False))"
            )
        if not bool(torch.isfinite(grad).all()):
            fail(f"parameter '{name}' gets a non-finite gradient from the DiffuSeq training loss")
        if name not in allow_zero_grad and not bool((grad != 0).any()):
            fail(
                f"parameter '{name}' gets an all-zero gradient from the DiffuSeq training loss; if a zero "
                "initialisation makes that intended, pass allow_zero_grad=[...] naming it"
            )

"""Built-in teacher-training losses (the ``loss`` of a ``train_teacher`` stage)."""

from __future__ import annotations

from dlmkit.hookspecs import Register, hookimpl
from dlmkit.teacher_losses.diffuseq import DiffuSeqLoss, build_diffuseq_loss, diffuseq_loss

__all__ = ["DiffuSeqLoss", "build_diffuseq_loss", "diffuseq_loss", "register_teacher_losses"]


@hookimpl
def register_teacher_losses(register: Register) -> None:
    register("diffuseq", build_diffuseq_loss)

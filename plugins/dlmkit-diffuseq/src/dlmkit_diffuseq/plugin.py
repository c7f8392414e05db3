"""dlmkit hook implementations: the ``diffuseq`` teacher and official-checkpoint loading.

Only torch-free modules are imported here, so discovering plugins (``dlmkit validate``,
``dlmkit components``) stays fast; the network code is imported when a teacher is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dlmkit.hookspecs import Register, hookimpl
from dlmkit_diffuseq.params import DiffuSeqParams

if TYPE_CHECKING:
    from dlmkit.interfaces.teacher import TeacherFactory
    from dlmkit_diffuseq.teacher import DiffuSeqTeacher


def build_teacher(
    params: DiffuSeqParams, vocab_size: int, seq_len: int, tokens: Sequence[str] | None = None
) -> DiffuSeqTeacher:
    """A fresh DiffuSeq teacher (see ``dlmkit_diffuseq.teacher.build_teacher``)."""
    from dlmkit_diffuseq.teacher import build_teacher as build

    return build(params, vocab_size=vocab_size, seq_len=seq_len, tokens=tokens)


@hookimpl
def register_teachers(register: Register) -> None:
    factory: TeacherFactory = build_teacher  # mypy checks the signature dlmkit calls
    register(
        "diffuseq",
        factory,
        params=DiffuSeqParams,
        summary="DiffuSeq TransformerNetModel (BERT encoder, x0 prediction); loads official ema_*.pt checkpoints",
    )


@hookimpl
def load_teacher_checkpoint(path: Path) -> DiffuSeqTeacher | None:
    """Official DiffuSeq ``.pt`` files and folders of ``ema_*.pt``; ``None`` for anything else."""
    from dlmkit_diffuseq.official import claims, load_official

    return load_official(path) if claims(Path(path)) else None

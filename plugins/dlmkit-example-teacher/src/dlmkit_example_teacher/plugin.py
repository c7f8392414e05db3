"""dlmkit hook implementations of the example teacher plugin (the module the entry point names).

Only the torch-free params module is imported here: listing plugins and checking recipes must
stay fast, so the network is imported when a teacher is actually built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dlmkit.hookspecs import Register, hookimpl
from dlmkit_example_teacher.params import AdaLNParams

if TYPE_CHECKING:
    from dlmkit_example_teacher.model import AdaLNTeacher


def build_teacher(
    params: AdaLNParams, vocab_size: int, seq_len: int, tokens: Sequence[str] | None = None
) -> AdaLNTeacher:
    """A fresh ``adaln_transformer`` teacher (see ``dlmkit_example_teacher.build``); it needs no token strings."""
    from dlmkit_example_teacher.build import build_adaln_teacher

    return build_adaln_teacher(params, vocab_size=vocab_size, seq_len=seq_len)


@hookimpl
def register_teachers(register: Register) -> None:
    register(
        "adaln_transformer",
        build_teacher,
        params=AdaLNParams,
        summary="Pre-LayerNorm transformer denoiser with adaLN time conditioning (example plugin)",
    )

"""The registry factory: resolve the data's sizes into the params, then build the network."""

from __future__ import annotations

import attrs

from dlmkit.errors import UserError
from dlmkit_example_teacher.model import AdaLNTeacher
from dlmkit_example_teacher.params import AdaLNParams


def build_adaln_teacher(params: AdaLNParams, vocab_size: int, seq_len: int) -> AdaLNTeacher:
    """A freshly initialised teacher for data with ``vocab_size`` tokens packed to ``seq_len``.

    ``vocab_size`` / ``seq_len`` set in ``[teacher]`` win when they are at least the data's (a
    teacher may be built larger than the data needs); either way the resolved sizes are stored in
    ``teacher.config``, so a checkpoint rebuilds the same network without the recipe.
    """
    resolved: dict[str, int] = {}
    for key, given, needed in (("vocab_size", params.vocab_size, vocab_size), ("seq_len", params.seq_len, seq_len)):
        if given is not None and given < needed:
            raise UserError(
                f"[teacher] {key} = {given} is smaller than the data's {key} ({needed}); remove the key to take "
                f"the data's, or set it to at least {needed}"
            )
        resolved[key] = needed if given is None else given
    return AdaLNTeacher(attrs.evolve(params, **resolved))

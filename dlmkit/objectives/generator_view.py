"""What the generator's loss sees: its noised sample and the teacher's and psi's reactions to it.

Each network runs at most once.  ``graph`` keeps autograd through the network's activations into
``x_gen`` (SiD: parameters are frozen by the trainer, activations are not); ``detached`` runs it
under ``no_grad`` (DMD's surrogate).  When logits are wanted psi must run with the graph, and its
x0 prediction comes from the same forward.  Under a bf16/fp16 autocast the teacher and psi run in
fp32 unless ``ctx.fp32_scores`` is off: right after psi is reset, ``A - B`` is 0.2-0.7% of
``|x0 - A|``, the size of bf16's rounding.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import attrs
import torch
from torch import Tensor

from dlmkit.interfaces.objective import DistillContext
from dlmkit.objectives.masking import target_weights
from dlmkit.objectives.noising import forward_noise

Use = Literal["skip", "graph", "detached"]


@attrs.frozen
class GeneratorView:
    """One noised generator sample and what the networks made of it; ``weights`` is ``[B, L, 1]``."""

    t: Tensor
    x_gen: Tensor
    weights: Tensor
    teacher_pred: Tensor | None = None
    psi_pred: Tensor | None = None
    logits: Tensor | None = None

    @property
    def tokens(self) -> Tensor:
        """The target mask per token, ``[B, L]``."""
        return self.weights[..., 0]


@contextlib.contextmanager
def score_precision(ctx: DistillContext, x: Tensor) -> Iterator[Tensor]:
    """``x`` as the score networks should see it: fp32 with autocast off, when asked and autocast is on."""
    device_type = x.device.type
    if not (ctx.fp32_scores and torch.is_autocast_enabled(device_type)):
        yield x
        return
    with torch.autocast(device_type, enabled=False):
        yield x.float()


def generator_view(ctx: DistillContext, *, teacher: Use, psi: Use, logits: bool = False) -> GeneratorView:
    """Noise ``ctx.x_gen`` once (graph kept) and run the networks the objective asked for."""
    x_gen = ctx.x_gen
    noised = forward_noise(ctx, x_gen, ctx.mask)
    t = noised.t
    teacher_pred: Tensor | None = None
    psi_pred: Tensor | None = None
    out_logits: Tensor | None = None
    with score_precision(ctx, noised.x_t) as x_t:
        if teacher == "graph":
            teacher_pred = ctx.teacher.denoise(x_t, t)
        elif teacher == "detached":
            with torch.no_grad():
                teacher_pred = ctx.teacher.denoise(x_t.detach(), t)
        if logits:
            psi_pred, hidden = ctx.psi.denoise_with_features(x_t, t)
            out_logits = ctx.logits(hidden)
            if psi == "detached":
                psi_pred = psi_pred.detach()
        elif psi == "graph":
            psi_pred = ctx.psi.denoise(x_t, t)
        elif psi == "detached":
            with torch.no_grad():
                psi_pred = ctx.psi.denoise(x_t.detach(), t)
    return GeneratorView(
        t=t,
        x_gen=x_gen,
        weights=target_weights(ctx.mask, x_gen),
        teacher_pred=teacher_pred,
        psi_pred=psi_pred if psi != "skip" else None,
        logits=out_logits,
    )

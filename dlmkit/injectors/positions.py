"""Which positions of a packed sequence are the target, in a shape that broadcasts over embeddings."""

from __future__ import annotations

from torch import Tensor

from dlmkit.errors import UserError


def target_positions(mask: Tensor, like: Tensor) -> Tensor:
    """A boolean ``[B, L, 1]`` (or ``[B, L, D]``) tensor, True on target positions of ``like`` ``[B, L, D]``.

    Batches carry ``input_mask`` as ``[B, L]``; some callers already expand it, so ``[B, L, 1]`` and
    ``[B, L, D]`` are accepted too.  Anything else is a wiring mistake worth a clear message.
    """
    given = mask
    if mask.dim() == like.dim() - 1:
        mask = mask.unsqueeze(-1)
    if mask.dim() != like.dim() or mask.shape[:-1] != like.shape[:-1] or mask.shape[-1] not in (1, like.shape[-1]):
        raise UserError(
            f"mask of shape {tuple(given.shape)} does not fit embeddings of shape {tuple(like.shape)}; "
            "expected [B, L] (a batch's input_mask), [B, L, 1] or [B, L, D]"
        )
    return mask.to(device=like.device) != 0

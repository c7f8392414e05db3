"""DiffuSeq's packing of a condition/target pair into one fixed-length sequence (``merge_and_mask``).

Layout: ``[CLS] x [SEP] [SEP] [CLS] y [SEP] [PAD]...`` with ``input_mask`` 0 on ``[CLS] x [SEP] [SEP]``
and 1 on the target *and* the padding (the model generates the pads).  Both sides share the budget:
while ``len([CLS] x) + len([CLS] y) > seq_len - 3`` the longer side loses its last token, and on a tie
both do.  We compute the loop's end point in closed form so that packing 50k pairs stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dlmkit.interfaces.dataset import Batch

#: Smallest seq_len for which truncation can never remove a side's ``[CLS]``.
MIN_SEQ_LEN = 5


def truncated_lengths(src_len: int, trg_len: int, budget: int) -> tuple[int, int]:
    """Lengths left by DiffuSeq's pop-the-longer loop (tie: pop both) until ``src + trg <= budget``.

    The longer side shrinks first; if it reaches the shorter one while still over budget, ties pop
    both, ending at ``budget // 2`` each (so an odd budget leaves one slot unused, as in DiffuSeq).
    """
    if src_len + trg_len <= budget:
        return src_len, trg_len
    short = min(src_len, trg_len)
    if 2 * short <= budget:
        rest = budget - short
        return (rest, short) if src_len > trg_len else (short, rest)
    half = budget // 2
    return half, half


def _check_seq_len(seq_len: int) -> None:
    if seq_len < MIN_SEQ_LEN:
        raise ValueError(f"seq_len must be >= {MIN_SEQ_LEN} so both [CLS] tokens survive truncation, got {seq_len}")


def _packed_row(src_ids: Sequence[int], trg_ids: Sequence[int], seq_len: int, sep_id: int) -> tuple[list[int], int]:
    """Unpadded ``[CLS] x [SEP] [SEP] [CLS] y [SEP]`` and the condition length ``len([CLS] x [SEP] [SEP])``."""
    if not src_ids or not trg_ids or src_ids[-1] != sep_id or trg_ids[-1] != sep_id:
        raise ValueError(
            "pack expects encoded ids with special tokens, [CLS] ... [SEP], on both sides; "
            f"got src ending {list(src_ids[-1:])} and trg ending {list(trg_ids[-1:])} (sep_id={sep_id})"
        )
    src_len, trg_len = truncated_lengths(len(src_ids) - 1, len(trg_ids) - 1, seq_len - 3)
    row = [*src_ids[:src_len], sep_id, sep_id, *trg_ids[:trg_len], sep_id]
    return row, src_len + 2


def pack(
    src_ids: Sequence[int], trg_ids: Sequence[int], seq_len: int, pad_id: int, sep_id: int
) -> tuple[list[int], list[int]]:
    """Pack one encoded pair (each ``[CLS] ... [SEP]``) into ``(input_ids, input_mask)`` of length ``seq_len``."""
    _check_seq_len(seq_len)
    row, cond_len = _packed_row(src_ids, trg_ids, seq_len, sep_id)
    input_ids = row + [pad_id] * (seq_len - len(row))
    input_mask = [0] * cond_len + [1] * (seq_len - cond_len)
    return input_ids, input_mask


def pack_batch(
    src_ids: Sequence[Sequence[int]],
    trg_ids: Sequence[Sequence[int]],
    seq_len: int,
    pad_id: int,
    sep_id: int,
) -> Batch:
    """Pack many pairs into a :class:`Batch` of int64 ``[N, seq_len]`` tensors, in input order."""
    _check_seq_len(seq_len)
    if len(src_ids) != len(trg_ids):
        raise ValueError(f"got {len(src_ids)} sources but {len(trg_ids)} targets")
    flat: list[int] = []
    cond_lens: list[int] = []
    for src, trg in zip(src_ids, trg_ids, strict=True):
        row, cond_len = _packed_row(src, trg, seq_len, sep_id)
        flat.extend(row)
        flat.extend([pad_id] * (seq_len - len(row)))
        cond_lens.append(cond_len)
    count = len(cond_lens)
    input_ids = torch.tensor(flat, dtype=torch.long).view(count, seq_len)
    positions = torch.arange(seq_len, dtype=torch.long)
    input_mask = (positions[None, :] >= torch.tensor(cond_lens, dtype=torch.long)[:, None]).long()
    return Batch(input_ids=input_ids, input_mask=input_mask)


def condition_length(input_mask: Tensor) -> Tensor:
    """DiffuSeq's split point ``len_x = seq_len - sum(input_mask)`` per row (works on ``[L]`` or ``[B, L]``)."""
    return input_mask.shape[-1] - input_mask.long().sum(dim=-1)

"""DiffuSeq's output lines ``{"recover", "reference", "source"}`` from generated and packed ids.

DiffuSeq splits each row at ``len_x = seq_len - sum(input_mask)``, pops *trailing* ``[PAD]`` ids
only (inner pads and every other special token stay), and decodes with the tokenizer.  Its
metrics strip the special-token strings later, so keeping them here is what makes our files and
scores comparable with DiffuSeq's.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from dlmkit.data.packing import condition_length
from dlmkit.interfaces.dataset import Batch, Tokenizer


def strip_trailing_pads(ids: Sequence[int], pad_id: int) -> list[int]:
    """``ids`` without its trailing run of ``pad_id``; pads elsewhere are kept."""
    end = len(ids)
    while end > 0 and ids[end - 1] == pad_id:
        end -= 1
    return list(ids[:end])


def decode_many(tokenizer: Tokenizer, sequences: Sequence[Sequence[int]]) -> list[str]:
    """Decode many id sequences, through the tokenizer's ``decode_batch`` when it has one."""
    batch_decode = getattr(tokenizer, "decode_batch", None)
    if callable(batch_decode):
        return list(batch_decode(sequences))
    return [tokenizer.decode(seq) for seq in sequences]


def _split_rows(ids: Tensor, input_mask: Tensor) -> tuple[list[list[int]], list[int]]:
    if ids.shape != input_mask.shape or ids.dim() != 2:
        shapes = f"{tuple(ids.shape)} and {tuple(input_mask.shape)}"
        raise ValueError(f"ids and input_mask must both be [B, L]; got {shapes}")
    return ids.tolist(), condition_length(input_mask).tolist()


def recover_texts(tokenizer: Tokenizer, generated_ids: Tensor, input_mask: Tensor) -> list[str]:
    """DiffuSeq's ``recover``: the generated ids after the condition, trailing pads popped, decoded."""
    rows, cond = _split_rows(generated_ids, input_mask)
    pad = tokenizer.pad_id
    return decode_many(tokenizer, [strip_trailing_pads(row[n:], pad) for row, n in zip(rows, cond, strict=True)])


def reference_texts(tokenizer: Tokenizer, batch: Batch) -> list[str]:
    """DiffuSeq's ``reference``: the packed (so possibly truncated) target, trailing pads popped, decoded."""
    return recover_texts(tokenizer, batch.input_ids, batch.input_mask)


def source_texts(tokenizer: Tokenizer, batch: Batch) -> list[str]:
    """DiffuSeq's ``source``: the condition ``[CLS] x [SEP] [SEP]``, decoded."""
    rows, cond = _split_rows(batch.input_ids, batch.input_mask)
    pad = tokenizer.pad_id
    return decode_many(tokenizer, [strip_trailing_pads(row[:n], pad) for row, n in zip(rows, cond, strict=True)])


def output_records(tokenizer: Tokenizer, generated_ids: Tensor, batch: Batch) -> list[dict[str, str]]:
    """One ``{"recover", "reference", "source"}`` dict per row, the line format of DiffuSeq's sample files."""
    if generated_ids.shape != batch.input_ids.shape:
        raise ValueError(
            f"generated ids {tuple(generated_ids.shape)} must match the batch {tuple(batch.input_ids.shape)}"
        )
    recover = recover_texts(tokenizer, generated_ids, batch.input_mask)
    reference = reference_texts(tokenizer, batch)
    source = source_texts(tokenizer, batch)
    return [{"recover": r, "reference": f, "source": s} for r, f, s in zip(recover, reference, source, strict=True)]

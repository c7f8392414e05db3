"""DiffuSeq packing (spec diffuseq.md §3.3): layout, balanced truncation, mask, condition length."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dlmkit.data.packing import condition_length, pack, pack_batch, truncated_lengths

CLS, SEP, PAD = 101, 102, 0


def enc(*ids: int) -> list[int]:
    return [CLS, *ids, SEP]


def reference_pack(src_ids: list[int], trg_ids: list[int], seq_len: int) -> tuple[list[int], list[int]]:
    """A literal transcription of the spec's loop, independent of the closed form under test."""
    src, trg = list(src_ids[:-1]), list(trg_ids[:-1])
    while len(src) + len(trg) > seq_len - 3:
        if len(src) > len(trg):
            src.pop()
        elif len(src) < len(trg):
            trg.pop()
        else:
            src.pop()
            trg.pop()
    src.append(SEP)
    trg.append(SEP)
    ids = [*src, SEP, *trg]
    mask = [0] * (len(src) + 1)
    ids += [PAD] * (seq_len - len(ids))
    mask += [1] * (seq_len - len(mask))
    return ids, mask


def test_no_truncation_layout_and_mask() -> None:
    ids, mask = pack(enc(5, 6), enc(7), seq_len=10, pad_id=PAD, sep_id=SEP)
    assert ids == [CLS, 5, 6, SEP, SEP, CLS, 7, SEP, PAD, PAD]
    assert mask == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]


def test_long_source_only_source_is_cut() -> None:
    ids, mask = pack(enc(1, 2, 3, 4, 5, 6, 7, 8), enc(9), seq_len=10, pad_id=PAD, sep_id=SEP)
    # budget 7: [CLS] 9 keeps 2, so [CLS] x keeps 5
    assert ids == [CLS, 1, 2, 3, 4, SEP, SEP, CLS, 9, SEP]
    assert mask == [0] * 7 + [1] * 3


def test_long_target_only_target_is_cut_and_keeps_final_sep() -> None:
    ids, mask = pack(enc(1), enc(2, 3, 4, 5, 6, 7, 8, 9), seq_len=10, pad_id=PAD, sep_id=SEP)
    assert ids == [CLS, 1, SEP, SEP, CLS, 2, 3, 4, 5, SEP]
    assert mask == [0] * 4 + [1] * 6


def test_both_long_shrink_to_half_the_budget() -> None:
    ids, mask = pack(enc(1, 2, 3, 4, 5), enc(6, 7, 8, 9, 10, 11, 12), seq_len=10, pad_id=PAD, sep_id=SEP)
    # budget 7 (odd): the longer shrinks to a tie at 6 each, then ties pop both down to 3 each
    assert ids == [CLS, 1, 2, SEP, SEP, CLS, 6, 7, SEP, PAD]
    assert mask == [0] * 5 + [1] * 5


def test_tie_pops_both() -> None:
    ids, _ = pack(enc(1, 2, 3, 4), enc(5, 6, 7, 8), seq_len=11, pad_id=PAD, sep_id=SEP)
    assert ids == [CLS, 1, 2, 3, SEP, SEP, CLS, 5, 6, 7, SEP]
    ids, _ = pack(enc(1, 2, 3), enc(5, 6, 7), seq_len=10, pad_id=PAD, sep_id=SEP)
    assert ids == [CLS, 1, 2, SEP, SEP, CLS, 5, 6, SEP, PAD]


def test_diffuseq_budget_of_125_for_seq_len_128() -> None:
    ids, mask = pack(enc(*range(1000, 1200)), enc(*range(2000, 2010)), seq_len=128, pad_id=PAD, sep_id=SEP)
    assert len(ids) == 128 and PAD not in ids
    assert ids[-12:] == [CLS, *range(2000, 2010), SEP]
    assert 128 - sum(mask) == 128 - 12


def test_rejects_unencoded_input_and_tiny_seq_len() -> None:
    with pytest.raises(ValueError, match=r"\[CLS\] \.\.\. \[SEP\]"):
        pack([CLS, 5], enc(6), seq_len=10, pad_id=PAD, sep_id=SEP)
    with pytest.raises(ValueError, match="seq_len must be >= 5"):
        pack(enc(5), enc(6), seq_len=4, pad_id=PAD, sep_id=SEP)
    with pytest.raises(ValueError, match="2 sources but 1 targets"):
        pack_batch([enc(1), enc(2)], [enc(3)], seq_len=10, pad_id=PAD, sep_id=SEP)


def _loop_lengths(a: int, b: int, budget: int) -> tuple[int, int]:
    while a + b > budget:
        if a > b:
            a -= 1
        elif b > a:
            b -= 1
        else:
            a, b = a - 1, b - 1
    return a, b


@given(st.integers(1, 200), st.integers(1, 200), st.integers(2, 150))
def test_closed_form_truncation_equals_the_loop(a: int, b: int, budget: int) -> None:
    assert truncated_lengths(a, b, budget) == _loop_lengths(a, b, budget)


words = st.lists(st.integers(1000, 1010), max_size=40)


@given(st.lists(st.tuples(words, words), min_size=1, max_size=6), st.integers(5, 48))
def test_pack_batch_equals_reference_and_condition_length(
    pairs: list[tuple[list[int], list[int]]], seq_len: int
) -> None:
    srcs = [enc(*s) for s, _ in pairs]
    trgs = [enc(*t) for _, t in pairs]
    batch = pack_batch(srcs, trgs, seq_len, pad_id=PAD, sep_id=SEP)
    assert batch.input_ids.dtype == torch.long and batch.input_mask.dtype == torch.long
    assert batch.input_ids.shape == (len(pairs), seq_len) == batch.input_mask.shape
    for row, (src, trg) in enumerate(zip(srcs, trgs, strict=True)):
        ids, mask = reference_pack(src, trg, seq_len)
        assert batch.input_ids[row].tolist() == ids
        assert batch.input_mask[row].tolist() == mask
        assert pack(src, trg, seq_len, PAD, SEP) == (ids, mask)
        len_x = int(condition_length(batch.input_mask[row]))
        assert ids[len_x - 2 : len_x] == [SEP, SEP] and ids[len_x] == CLS
    assert condition_length(batch.input_mask).tolist() == [seq_len - int(m.sum()) for m in batch.input_mask]


def test_empty_batch() -> None:
    batch = pack_batch([], [], seq_len=8, pad_id=PAD, sep_id=SEP)
    assert batch.input_ids.shape == (0, 8) and batch.input_mask.shape == (0, 8)

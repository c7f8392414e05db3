"""The known-answer dataset of the distillation proof: every source has K equally likely exact answers.

A source is a random sequence of ``min_words``-``max_words`` words from a small vocabulary; its target
is one of K transformations of it (copy, reverse, rotate by one, swap halves), chosen uniformly at
random per example.  The conditional distribution therefore has K modes of equal mass, and the
token-wise mean of the modes is not a valid answer: a model that regresses to the mean fails, one
that matches the distribution picks a mode per sample with the right frequencies.  BLEU cannot tell
those apart; the ``validity`` and ``mode_tv`` metrics can.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import torch
from attrs import validators as v

from dlmkit.data.packing import pack_batch
from dlmkit.data.wordpiece import WordPieceTokenizer
from dlmkit.errors import UserError
from dlmkit.interfaces import Batch, Tokenizer

SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def _copy(words: Sequence[str]) -> list[str]:
    return list(words)


def _reverse(words: Sequence[str]) -> list[str]:
    return list(reversed(words))


def _rotate(words: Sequence[str]) -> list[str]:
    return [*words[1:], *words[:1]]


def _swap_halves(words: Sequence[str]) -> list[str]:
    half = len(words) // 2
    return [*words[half:], *words[:half]]


TRANSFORMS: dict[str, Callable[[Sequence[str]], list[str]]] = {
    "copy": _copy,
    "reverse": _reverse,
    "rotate": _rotate,
    "swap_halves": _swap_halves,
}
"""The modes, by name; a target is ``TRANSFORMS[mode](source_words)``."""


def answers(source: Sequence[str], modes: Sequence[str] = tuple(TRANSFORMS)) -> list[list[str]]:
    """The K exact answers of a source (word lists), in the order of ``modes``."""
    return [TRANSFORMS[mode](source) for mode in modes]


def matched_modes(output: Sequence[str], source: Sequence[str], modes: Sequence[str] = tuple(TRANSFORMS)) -> list[str]:
    """The modes whose answer for ``source`` equals ``output`` (several when answers coincide, none if invalid)."""
    return [mode for mode in modes if TRANSFORMS[mode](source) == list(output)]


def check_modes(instance: object, attribute: attrs.Attribute[list[str]], value: list[str]) -> None:
    unknown = [m for m in value if m not in TRANSFORMS]
    if unknown or len(value) < 2 or len(set(value)) != len(value):
        raise ValueError(
            f"'{attribute.name}' must list at least two distinct modes of {', '.join(TRANSFORMS)}, got {value!r}"
        )


@attrs.frozen
class ModesParams:
    """``[data]`` keys of ``modes``: sizes of the vocabulary, sources and splits, and the modes used."""

    vocab_words: int = attrs.field(default=12, validator=[v.instance_of(int), v.ge(2), v.le(1000)])
    min_words: int = attrs.field(default=4, validator=[v.instance_of(int), v.ge(2)])
    max_words: int = attrs.field(default=8, validator=[v.instance_of(int), v.le(64)])
    seq_len: int = attrs.field(default=24, validator=[v.instance_of(int), v.ge(8), v.le(512)])
    num_train: int = attrs.field(default=50_000, validator=[v.instance_of(int), v.gt(0), v.le(10_000_000)])
    num_valid: int = attrs.field(default=500, validator=[v.instance_of(int), v.gt(0), v.le(1_000_000)])
    num_test: int = attrs.field(default=500, validator=[v.instance_of(int), v.gt(0), v.le(1_000_000)])
    modes: list[str] = attrs.field(factory=lambda: list(TRANSFORMS), validator=check_modes)
    seed: int = attrs.field(default=0, validator=[v.instance_of(int), v.ge(0), v.lt(2**63)])

    def __attrs_post_init__(self) -> None:
        if self.min_words > self.max_words:
            raise ValueError(f"'min_words' ({self.min_words}) must not exceed 'max_words' ({self.max_words})")
        needed = 2 * self.max_words + 5  # [CLS] x [SEP] [SEP] [CLS] y [SEP]
        if needed > self.seq_len:
            raise ValueError(
                f"'seq_len' ({self.seq_len}) cannot hold a source and a target of {self.max_words} words "
                f"with their special tokens; set seq_len >= {needed}"
            )


SPLIT_OFFSETS = {"train": 0, "valid": 1, "test": 2}
"""Each split draws from its own seeded stream, so changing one split's size leaves the others as they were."""


class ModesDataset:
    """Source/target pairs of the K-mode task; satisfies ``dlmkit.interfaces.Dataset``."""

    def __init__(self, params: ModesParams):
        self.params = params
        self.seq_len = params.seq_len
        self.words = [f"w{i}" for i in range(params.vocab_words)]
        self.tokenizer: Tokenizer = WordPieceTokenizer.from_tokens([*SPECIAL, *self.words])
        self._splits: dict[str, Batch] = {}

    def has_split(self, name: str) -> bool:
        return name in SPLIT_OFFSETS

    def split(self, name: str) -> Batch:
        if not self.has_split(name):
            raise UserError(f"[data] modes has splits train, valid and test, not {name!r}")
        if name not in self._splits:
            self._splits[name] = self._make(name)
        return self._splits[name]

    def pairs(self, name: str) -> list[tuple[list[str], list[str], str]]:
        """``(source words, target words, mode)`` of a split, in order (what ``split`` packs)."""
        p = self.params
        count = {"train": p.num_train, "valid": p.num_valid, "test": p.num_test}[name]
        g = torch.Generator().manual_seed(p.seed * 3 + SPLIT_OFFSETS[name])
        lengths = torch.randint(p.min_words, p.max_words + 1, (count,), generator=g).tolist()
        picks = torch.randint(0, len(p.modes), (count,), generator=g).tolist()
        draws = torch.randint(0, len(self.words), (count, p.max_words), generator=g).tolist()
        out = []
        for n, k, row in zip(lengths, picks, draws, strict=True):
            source = [self.words[i] for i in row[:n]]
            mode = p.modes[k]
            out.append((source, TRANSFORMS[mode](source), mode))
        return out

    def _make(self, name: str) -> Batch:
        tok = self.tokenizer
        ids = {w: i for i, w in enumerate(tok.tokens)}

        def encoded(words: list[str]) -> list[int]:
            return [tok.cls_id, *(ids[w] for w in words), tok.sep_id]

        rows = self.pairs(name)
        return pack_batch(
            [encoded(s) for s, _, _ in rows], [encoded(t) for _, t, _ in rows], self.seq_len, tok.pad_id, tok.sep_id
        )

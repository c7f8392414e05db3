"""Random condition/target pairs: the dataset for benchmarks and smoke runs where only shapes matter."""

from __future__ import annotations

import attrs
import torch
from attrs import validators as v

from dlmkit.data.packing import pack_batch
from dlmkit.data.wordpiece import WordPieceTokenizer
from dlmkit.errors import UserError
from dlmkit.interfaces import Batch, Tokenizer

SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


@attrs.frozen
class SyntheticPairsParams:
    """Sizes of the random pairs; token ids are uniform over the non-special vocabulary."""

    vocab_size: int = attrs.field(default=30522, validator=v.gt(len(SPECIAL)))
    seq_len: int = attrs.field(default=128, validator=v.ge(8))
    num_pairs: int = attrs.field(default=4096, validator=v.gt(0))
    min_len: int = attrs.field(default=8, validator=v.gt(0))
    max_len: int = attrs.field(default=40, validator=v.gt(0))
    seed: int = 0


class SyntheticPairs:
    """Same pairs for every split (they are only for timing); satisfies ``dlmkit.interfaces.Dataset``."""

    def __init__(self, params: SyntheticPairsParams):
        if params.min_len > params.max_len:
            raise UserError(f"[data] min_len ({params.min_len}) must not exceed max_len ({params.max_len})")
        self.params = params
        self.seq_len = params.seq_len
        tokens = [*SPECIAL, *(f"tok{i}" for i in range(params.vocab_size - len(SPECIAL)))]
        self.tokenizer: Tokenizer = WordPieceTokenizer.from_tokens(tokens)
        self._batch: Batch | None = None

    def has_split(self, name: str) -> bool:
        return name in ("train", "valid", "test")

    def split(self, name: str) -> Batch:
        if not self.has_split(name):
            raise UserError(f"synthetic data has splits train, valid and test, not {name!r}")
        if self._batch is None:
            p = self.params
            g = torch.Generator().manual_seed(p.seed)
            lengths = torch.randint(p.min_len, p.max_len + 1, (p.num_pairs, 2), generator=g).tolist()
            tok = self.tokenizer

            def sentence(n: int) -> list[int]:
                body = torch.randint(len(SPECIAL), p.vocab_size, (n,), generator=g).tolist()
                return [tok.cls_id, *body, tok.sep_id]

            srcs = [sentence(a) for a, _ in lengths]
            trgs = [sentence(b) for _, b in lengths]
            self._batch = pack_batch(srcs, trgs, p.seq_len, tok.pad_id, tok.sep_id)
        return self._batch

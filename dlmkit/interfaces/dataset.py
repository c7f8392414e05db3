"""Data contracts: tokenizers, packed batches and the datasets that produce them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import attrs
import torch
from torch import Tensor


@attrs.frozen
class Batch:
    """Packed DiffuSeq sequences: ``[CLS] x [SEP] [SEP] [CLS] y [SEP] [PAD]...``.

    ``input_mask`` is 0 on the condition (``[CLS] x [SEP] [SEP]``) and 1 on the target and padding.
    """

    input_ids: Tensor
    input_mask: Tensor

    def to(self, device: torch.device | str) -> Batch:
        return Batch(self.input_ids.to(device), self.input_mask.to(device))

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])

    def slice(self, start: int, stop: int) -> Batch:
        return Batch(self.input_ids[start:stop], self.input_mask[start:stop])


@runtime_checkable
class Tokenizer(Protocol):
    """Text to ids and back; ids follow DiffuSeq's special-token conventions."""

    vocab_size: int
    pad_id: int
    cls_id: int
    sep_id: int

    @property
    def tokens(self) -> Sequence[str]:
        """The token strings in id order, for teachers that start their embeddings from pretrained tables."""
        ...

    def encode(self, text: str) -> list[int]:
        """Ids with the special tokens added: ``[CLS] ... [SEP]``."""
        ...

    def decode(self, ids: Sequence[int]) -> str:
        """Text as DiffuSeq writes it (special tokens kept, WordPiece and punctuation spacing cleaned)."""
        ...


@runtime_checkable
class Dataset(Protocol):
    """A source of packed condition/target pairs for the splits ``train``, ``valid`` and ``test``.

    Construction should only locate the inputs (a ``UserError`` naming each missing one) and leave
    reading them to first use: ``dlmkit validate`` builds the data set to check its files.
    """

    seq_len: int

    @property
    def tokenizer(self) -> Tokenizer: ...

    def split(self, name: str) -> Batch:
        """All examples of a split, packed, in file order."""
        ...

    def has_split(self, name: str) -> bool: ...

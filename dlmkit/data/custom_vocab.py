"""A small lowercase WordPiece vocabulary trained on the training texts, for CPU-sized models.

bert-base-uncased's 30,522 tokens dominate the parameter count of a tiny teacher (embedding and
output layer); a few thousand pieces learned from the data keep the model small.  The result is a
plain ``vocab.txt`` with BERT's special tokens up front (``[PAD]`` = 0), so it is read back through
:class:`~dlmkit.data.wordpiece.WordPieceTokenizer` and can travel with runs and checkpoints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import attrs
from tokenizers import BertWordPieceTokenizer

from dlmkit.data.wordpiece import write_vocab_file

#: Special tokens in id order; ``[PAD]`` must be 0 because DiffuSeq pads with id 0.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


@attrs.frozen
class CustomVocabParams:
    """How to learn the vocabulary."""

    vocab_size: int = attrs.field(default=8000, validator=[attrs.validators.instance_of(int), attrs.validators.ge(16)])
    """Target number of tokens, special tokens included (the trainer may return fewer on tiny corpora)."""
    min_frequency: int = attrs.field(default=2, validator=[attrs.validators.instance_of(int), attrs.validators.ge(1)])
    """A merge must occur at least this often to become a token."""
    limit_alphabet: int = attrs.field(
        default=1000, validator=[attrs.validators.instance_of(int), attrs.validators.ge(1)]
    )
    """At most this many single characters; rarer characters map to ``[UNK]``."""


def _alphabet(backend: BertWordPieceTokenizer, texts: list[str], limit: int) -> tuple[list[str], list[str]]:
    """The ``limit`` most frequent normalized characters, and the ``##c`` pieces that can continue a word.

    The BertNormalizer works character by character, so counting raw characters and normalizing only
    the distinct ones gives the trainer's counts at a fraction of the cost.
    """
    normalizer, pre_tokenizer = backend.normalizer, backend.pre_tokenizer
    counts: Counter[str] = Counter()
    for char, count in Counter("\n".join(texts)).items():
        for normalized in normalizer.normalize_str(char):
            if not normalized.isspace():
                counts[normalized] += count
    kept = sorted(sorted(counts, key=lambda c: (-counts[c], c))[:limit])
    # Punctuation and CJK characters are always split off as words of their own, so never continue one.
    continuing = [c for c in kept if len(pre_tokenizer.pre_tokenize_str(normalizer.normalize_str("a" + c))) == 1]
    return kept, ["##" + c for c in continuing]


def train_wordpiece_vocab(texts: Iterable[str], params: CustomVocabParams | None = None) -> list[str]:
    """Learn a lowercase WordPiece vocabulary from ``texts``; returns the tokens in id order.

    The tokenizers trainer breaks count ties by internal ids that it hands out in hash-map order, so
    two runs on the same data can disagree.  Fixing the alphabet and the ``##c`` pieces up front (as
    leading special tokens, in sorted order) pins those ids, which makes training repeatable.
    """
    params = params or CustomVocabParams()
    corpus = list(texts)
    backend = BertWordPieceTokenizer(lowercase=True)
    alphabet, continuations = _alphabet(backend, corpus, params.limit_alphabet)
    backend.train_from_iterator(
        corpus,
        vocab_size=params.vocab_size,
        min_frequency=params.min_frequency,
        limit_alphabet=max(len(alphabet), 1),
        initial_alphabet=alphabet,
        special_tokens=[*SPECIAL_TOKENS, *continuations],
        show_progress=False,
    )
    vocab = backend.get_vocab()
    tokens = sorted(vocab, key=vocab.__getitem__)
    if tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:  # guards against a tokenizers behaviour change
        raise RuntimeError(f"WordPiece trainer put special tokens at unexpected ids: {tokens[: len(SPECIAL_TOKENS)]}")
    return tokens


def build_custom_vocab(texts: Iterable[str], path: str | Path, params: CustomVocabParams | None = None) -> Path:
    """Train a vocabulary on ``texts`` and write it to ``path``; returns the path."""
    return write_vocab_file(train_wordpiece_vocab(texts, params), path)

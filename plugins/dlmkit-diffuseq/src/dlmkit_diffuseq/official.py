"""Loading checkpoints written by the official DiffuSeq trainer (``ema_0.9999_XXXXXX.pt``).

Three things matter (spec diffuseq.md §1.2, §1.5, §1.7):

* the file is a bare state dict, read here with ``weights_only=True`` only, so a pickle that
  would run code is refused rather than executed;
* sizes come from ``training_args.json`` beside the file (``config_name = "bert-base-uncased"``
  means BERT-base), an HF ``config.json`` beside it overrides the encoder sizes, and without either
  the sizes are read off the tensor shapes;
* the trainer saves EMA values for every named parameter but the *live* ``lm_head.weight``; loading
  copies that after ``word_embedding.weight``, so the shared embedding ends up non-EMA.  We write
  the file's ``lm_head.weight`` into the tied table explicitly and ignore ``word_embedding.weight``.
"""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from dlmkit.errors import CheckpointError
from dlmkit_diffuseq.params import DiffuSeqParams
from dlmkit_diffuseq.teacher import DiffuSeqTeacher

EMA_FILE = re.compile(r"^ema_(?P<rate>[0-9.]+)_(?P<step>\d+)\.pt$")
TRAINING_ARGS = "training_args.json"
HF_CONFIG = "config.json"
V2_KEY = "mean_embed"
SIGNATURE_KEYS = ("time_embed.0.weight", "input_transformers.layer.0.attention.self.query.weight")

_BERT_BASE: dict[str, Any] = {
    "hidden_size": 768,
    "num_layers": 12,
    "num_heads": 12,
    "intermediate_size": 3072,
    "max_position": 512,
    "layer_norm_eps": 1e-12,
    "attention_dropout": 0.1,
}
KNOWN_ENCODERS: dict[str, dict[str, Any]] = {"bert-base-uncased": _BERT_BASE, "bert-base-cased": _BERT_BASE}

# training_args.json key -> DiffuSeqParams field
_TRAINING_ARGS_FIELDS = {
    "hidden_dim": "embed_dim",
    "hidden_t_dim": "hidden_t_dim",
    "seq_len": "seq_len",
    "dropout": "dropout",
    "diffusion_steps": "num_timesteps",
    "vocab_size": "vocab_size",
}
# HF config.json key -> DiffuSeqParams field
_HF_CONFIG_FIELDS = {
    "hidden_size": "hidden_size",
    "num_hidden_layers": "num_layers",
    "num_attention_heads": "num_heads",
    "intermediate_size": "intermediate_size",
    "hidden_dropout_prob": "dropout",
    "attention_probs_dropout_prob": "attention_dropout",
    "max_position_embeddings": "max_position",
    "layer_norm_eps": "layer_norm_eps",
}
_FLOAT_FIELDS = {"dropout", "attention_dropout", "layer_norm_eps"}
_MAX_LISTED = 12


def load_official(path: str | Path) -> DiffuSeqTeacher:
    """An official DiffuSeq checkpoint (a ``.pt`` file, or a folder of ``ema_*.pt``) as a teacher in eval mode."""
    checkpoint = find_checkpoint(Path(path))
    state = read_state_dict(checkpoint)
    if "lm_head.weight" not in state and "word_embedding.weight" not in state:
        raise CheckpointError(
            f"{checkpoint}: no embedding table (neither lm_head.weight nor word_embedding.weight); "
            "an official DiffuSeq checkpoint holds both"
        )
    params = official_params(checkpoint, state)
    with torch.device("meta"):  # shapes only: no memory, no init, before anything is known to fit
        shapes = DiffuSeqTeacher(params)
    _check_keys(checkpoint, state, shapes)
    floating = {key for key, value in shapes.state_dict().items() if value.is_floating_point()}
    integral = [key for key in sorted(floating & set(state)) if not state[key].is_floating_point()]
    if integral:
        raise CheckpointError(
            f"{checkpoint}: tensor '{integral[0]}' is {state[integral[0]].dtype}, not floating point; an official "
            "DiffuSeq checkpoint holds float weights only (was the file converted wrongly?)"
        )
    teacher = DiffuSeqTeacher(params)
    tied = dict(state)
    tied["word_embedding.weight"] = state.get("lm_head.weight", state["word_embedding.weight"])  # lm_head wins
    teacher.load_state_dict(tied, strict=True)
    return teacher.eval()


def find_checkpoint(path: Path) -> Path:
    """The file itself, or in a folder the ``ema_*.pt`` with the highest step."""
    if path.is_dir():
        found = [(int(m["step"]), p.name, p) for p in path.iterdir() if (m := EMA_FILE.match(p.name)) and p.is_file()]
        if not found:
            raise CheckpointError(f"{path}: no ema_*.pt checkpoint in this folder (expected e.g. ema_0.9999_050000.pt)")
        return max(found)[2]
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file or folder")
    return path


def claims(path: Path) -> bool:
    """Whether ``path`` looks like an official DiffuSeq checkpoint (cheap; never raises)."""
    try:
        if path.is_dir():
            return any(EMA_FILE.match(p.name) for p in path.iterdir())
        if not path.is_file() or path.suffix != ".pt":
            return False
        if EMA_FILE.match(path.name) or (path.parent / TRAINING_ARGS).is_file():
            return True
        state = _strip_module_prefix(torch.load(path, map_location="cpu", weights_only=True, mmap=True))
        return isinstance(state, Mapping) and all(key in state for key in SIGNATURE_KEYS)
    except Exception:
        return False


def read_state_dict(path: Path) -> dict[str, Tensor]:
    """The file's state dict, loaded without running any pickled code; ``module.`` prefixes removed."""
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if found is None:
            raise CheckpointError(f"{path}: not a readable torch checkpoint (the pickle stream is malformed)") from exc
        raise CheckpointError(
            f"{path}: refused to load: it contains pickled Python objects other than tensors "
            f"({found.group(1)}), which could run code when unpickled; official DiffuSeq checkpoints hold "
            "only a state dict of tensors. If you trust the file, re-save just its tensors "
            "(torch.save(model.state_dict(), ...))"
        ) from exc
    except Exception as exc:
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({type(exc).__name__}: {exc})") from exc
    state = _strip_module_prefix(loaded)
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{path}: holds a {type(loaded).__name__}, expected a state dict (name -> tensor)")
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, Tensor):
            raise CheckpointError(
                f"{path}: entry {key!r} holds a {type(value).__name__}; expected a state dict of tensors only"
            )
    if V2_KEY in state:
        raise CheckpointError(
            f"{path}: has '{V2_KEY}', so it is a DiffuSeq-v2 model (learned_mean_embed = True); "
            "v2 checkpoints are not supported, only v1 (DiffuSeq main branch) ones"
        )
    return dict(state)


def official_params(checkpoint: Path, state: Mapping[str, Tensor]) -> DiffuSeqParams:
    """Sizes for ``checkpoint``: shapes, overridden by ``training_args.json``, overridden by ``config.json``."""
    values = _inferred_sizes(state)
    args_path = checkpoint.parent / TRAINING_ARGS
    sources = ["tensor shapes"]
    if args_path.is_file():
        args = _read_json(args_path)
        if args.get("learn_sigma"):
            raise CheckpointError(f"{args_path}: learn_sigma = true is not supported (the released models use false)")
        values.update(_pick(args_path, args, _TRAINING_ARGS_FIELDS))
        config_name = args.get("config_name")
        if isinstance(config_name, str) and config_name in KNOWN_ENCODERS:
            values.update(KNOWN_ENCODERS[config_name])
        sources.append(str(args_path))
    config_path = checkpoint.parent / HF_CONFIG
    if config_path.is_file():
        values.update(_pick(config_path, _read_json(config_path), _HF_CONFIG_FIELDS))
        sources.append(str(config_path))
    try:
        return DiffuSeqParams(**values)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{checkpoint}: the sizes from {', '.join(sources)} are not usable: {exc}") from exc


def _inferred_sizes(state: Mapping[str, Tensor]) -> dict[str, Any]:
    """What the shapes reveal; heads cannot be seen, so 12 (BERT's) when it divides the width."""
    values: dict[str, Any] = {}
    table = state.get("lm_head.weight", state.get("word_embedding.weight"))
    if table is not None and table.dim() == 2:
        values["vocab_size"], values["embed_dim"] = table.shape
    positions = state.get("position_embeddings.weight")
    if positions is not None and positions.dim() == 2:
        values["max_position"], values["hidden_size"] = positions.shape
        values["num_heads"] = 12 if positions.shape[1] % 12 == 0 else _fallback_heads(positions.shape[1])
        values["seq_len"] = min(DiffuSeqParams().seq_len, values["max_position"])
    time_in = state.get("time_embed.0.weight")
    if time_in is not None and time_in.dim() == 2:
        values["hidden_t_dim"] = time_in.shape[1]
    layers = {int(m[1]) for key in state if (m := re.match(r"input_transformers\.layer\.(\d+)\.", key))}
    if layers:
        values["num_layers"] = max(layers) + 1
    ffn = state.get("input_transformers.layer.0.intermediate.dense.weight")
    if ffn is not None and ffn.dim() == 2:
        values["intermediate_size"] = ffn.shape[0]
    return values


def _fallback_heads(width: int) -> int:
    return max(d for d in range(1, 13) if width % d == 0)


def _pick(path: Path, source: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    picked: dict[str, Any] = {}
    for key, field in fields.items():
        if key not in source:
            continue
        value = source[key]
        wanted = (int, float) if field in _FLOAT_FIELDS else (int,)
        if isinstance(value, bool) or not isinstance(value, wanted):
            kind = "a number" if field in _FLOAT_FIELDS else "an integer"
            raise CheckpointError(f"{path}: '{key}' must be {kind}, got {value!r}")
        picked[field] = float(value) if field in _FLOAT_FIELDS else value
    return picked


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read it as JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _strip_module_prefix(state: Any) -> Any:
    """Drop a DDP ``module.`` prefix when every key carries it."""
    if isinstance(state, Mapping) and state and all(isinstance(k, str) and k.startswith("module.") for k in state):
        return {k.removeprefix("module."): v for k, v in state.items()}
    return state


def _check_keys(path: Path, state: Mapping[str, Tensor], teacher: DiffuSeqTeacher) -> None:
    expected = {key: tuple(value.shape) for key, value in teacher.state_dict().items()}
    problems = [
        f"key '{key}' has shape {list(state[key].shape)}, expected {list(shape)}"
        for key, shape in expected.items()
        if key in state and tuple(state[key].shape) != shape
    ]
    problems += [
        f"missing key '{key}' (expected shape {list(shape)})" for key, shape in expected.items() if key not in state
    ]
    problems += [f"unexpected key '{key}' (shape {list(state[key].shape)})" for key in state if key not in expected]
    if problems:
        shown = problems[:_MAX_LISTED]
        more = len(problems) - len(shown)
        beside = [name for name in (TRAINING_ARGS, HF_CONFIG) if (path.parent / name).is_file()]
        origin = " and ".join(beside) + " beside it" if beside else "its tensor shapes"
        c = teacher.config
        sizes = (
            f"embed_dim {c.embed_dim}, hidden_size {c.hidden_size}, num_layers {c.num_layers}, "
            f"intermediate_size {c.intermediate_size}, vocab_size {c.vocab_size}"
        )
        raise CheckpointError(
            f"{path}: does not match the DiffuSeq model built from {origin} ({sizes}):\n  "
            + "\n  ".join(shown)
            + (f"\n  ... and {more} more" if more else "")
        )

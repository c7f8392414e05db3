"""Checkpoints: safetensors weights (tied weights handled), JSON metadata, and resumable trainer state.

A training checkpoint is a folder ``step_NNNNNNN`` holding one ``<module>.safetensors`` per
network, ``trainer_state.pt`` (optimisers, RNG, counters; loaded with ``weights_only=True``) and
``meta.json``.  Folders are written atomically and ``latest`` is updated last, so a killed process
leaves the previous checkpoint usable.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch
from torch import nn

from dlmkit.errors import CheckpointError
from dlmkit.storage.atomic import atomic_directory, write_file_atomic, write_text_atomic

LATEST = "latest"
CHECKPOINT_META = "meta.json"


def save_module(module: nn.Module, path: Path, metadata: Mapping[str, str] | None = None) -> None:
    """Write a module's weights atomically; tied parameters are stored once."""
    meta = {k: str(v) for k, v in (metadata or {}).items()}
    write_file_atomic(path, lambda tmp: safetensors.torch.save_model(module, str(tmp), metadata=meta))


def load_module(module: nn.Module, path: Path) -> None:
    """Load weights saved by ``save_module`` into ``module`` (every key must match)."""
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        with safetensors.safe_open(str(path), framework="pt") as handle:
            stored = {key: handle.get_slice(key).get_dtype() for key in handle.keys()}  # noqa: SIM118
    except (OSError, safetensors.SafetensorError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from None
    for key, value in module.state_dict().items():
        kind = stored.get(key, "")
        if value.is_floating_point() and kind and not (kind.startswith("F") or kind == "BF16"):
            raise CheckpointError(
                f"{path}: tensor '{key}' is stored as {kind}, not floating point; weights cast from integers are "
                "not a trained network (was the file converted wrongly?)"
            )
    try:
        missing, unexpected = safetensors.torch.load_model(module, str(path), strict=False)
    except (OSError, RuntimeError, ValueError, safetensors.SafetensorError) as exc:
        raise CheckpointError(f"{path}: cannot load these weights ({type(exc).__name__}: {exc})") from None
    if missing or unexpected:
        raise CheckpointError(
            f"{path}: does not match the model: missing keys {sorted(missing)[:5]}, "
            f"unexpected keys {sorted(unexpected)[:5]}"
        )


def refuse_special_file(path: Path) -> None:
    """Refuse a path that exists but is neither a regular file nor a folder (a FIFO, socket or device)."""
    if path.exists() and not path.is_file() and not path.is_dir():
        raise CheckpointError(f"{path}: not a regular file (a FIFO, socket or device); give a checkpoint file")


def read_metadata(path: Path) -> dict[str, str]:
    """The string metadata of a safetensors file; a FIFO or device is refused before it is opened (it would
    block or never end)."""
    refuse_special_file(path)
    try:
        with safetensors.safe_open(str(path), framework="pt") as handle:
            return dict(handle.metadata() or {})
    except (OSError, safetensors.SafetensorError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from None


def save_state(path: Path, state: dict[str, Any]) -> None:
    write_file_atomic(path, lambda tmp: torch.save(state, tmp))


def load_state(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: trainer state not found") from None
    except Exception as exc:
        raise CheckpointError(f"{path}: cannot load trainer state safely ({type(exc).__name__}: {exc})") from None


def rng_state() -> dict[str, Any]:
    import random

    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1])}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    import random

    torch.set_rng_state(state["torch"])
    random.setstate((3, tuple(int(x) for x in state["python"]), None))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def module_file(folder: Path, name: str) -> Path:
    """Where a checkpoint folder keeps the weights of its module ``name``."""
    return folder / f"{name}.safetensors"


def non_finite(module: nn.Module) -> str | None:
    """The first floating tensor of ``module`` holding NaN or an infinity, by name; ``None`` when all are finite."""
    floating = {key: value for key, value in module.state_dict().items() if value.is_floating_point()}
    if not floating:
        return None
    device = next(iter(floating.values())).device
    finite = torch.stack([value.isfinite().all().to(device) for value in floating.values()]).tolist()  # one read
    return next((key for key, ok in zip(floating, finite, strict=True) if not ok), None)


def write_checkpoint(
    folder: Path,
    step: int,
    modules: Mapping[str, nn.Module],
    state: dict[str, Any],
    meta: Mapping[str, Any],
    keep: int = 2,
) -> Path:
    """Write ``folder/step_NNNNNNN`` atomically, point ``folder/latest`` at it, prune old ones."""
    target = folder / f"step_{step:07d}"
    for name, module in modules.items():
        bad = non_finite(module)
        if bad is not None:
            raise CheckpointError(
                f"{name} holds NaN or infinite weights at step {step} ({bad}); no checkpoint written, so the last one "
                f"({latest_checkpoint(folder) or 'none'}) stays the last good one. Lower the learning rates or "
                "weight_decay, then continue with --resume"
            )
    with atomic_directory(target) as tmp:
        for name, module in modules.items():
            safetensors.torch.save_model(module, str(module_file(tmp, name)), metadata={"step": str(step)})
        torch.save(state, tmp / "trainer_state.pt")
        (tmp / CHECKPOINT_META).write_text(json.dumps({**meta, "step": step}, indent=2, default=str), encoding="utf-8")
    write_text_atomic(folder / LATEST, target.name + "\n")
    steps = sorted(p for p in folder.glob("step_*") if p.is_dir() and not p.name.endswith(".tmp"))
    for old in steps[:-keep] if keep > 0 else []:
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    return target


def _complete(folder: Path) -> bool:
    return (folder / CHECKPOINT_META).is_file() and (folder / "trainer_state.pt").is_file()


def _named(folder: Path) -> Path | None:
    """The checkpoint ``latest`` names, which must be a ``step_N`` folder of this stage; ``None`` without one."""
    pointer = folder / LATEST
    if not pointer.is_file():
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise CheckpointError(f"{pointer}: not a checkpoint name (unreadable or binary); remove it") from None
    if not (name.startswith("step_") and name.removeprefix("step_").isdigit()):
        raise CheckpointError(
            f"{pointer}: names {name[:60]!r}, not a step_N folder of this stage; remove it to resume from the newest"
        )
    return folder / name


def latest_checkpoint(folder: Path) -> Path | None:
    """The folder ``latest`` points at, if it exists and is complete."""
    target = _named(folder)
    return target if target is not None and _complete(target) else None


def _step_of(folder: Path) -> int:
    digits = folder.name.strip(".").removeprefix("step_").removesuffix(".old")
    return int(digits) if digits.isdigit() else -1


def resume_checkpoint(folder: Path, stage: str, say: Callable[[str], None]) -> Path | None:
    """The checkpoint a resumed stage continues from, found however the last run ended.

    ``latest`` names it normally.  A kill between the two renames that replace a checkpoint leaves
    it only as ``.step_N.old``: that copy is moved back.  A pointer to a missing folder falls back to
    the newest complete ``step_*``.  Temporary copies of interrupted writes are removed.  ``None`` only
    when the stage never wrote a checkpoint (it then starts at step 0, and says so); a folder with
    checkpoints of which none is complete is an error, never a silent restart.
    """
    if not folder.is_dir():
        say(f"[{stage}] no checkpoint to resume from; starting the stage at step 0")
        return None
    for stale in folder.glob(".*.tmp"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    named = _named(folder)
    if named is not None and not _complete(named):
        old = named.with_name(f".{named.name}.old")
        if _complete(old) and not named.exists():
            os.replace(old, named)
            say(f"[{stage}] {named.name} was left as {old.name} by an interrupted write; restored it")
    candidates = sorted((p for p in folder.glob("step_*") if p.is_dir() and _complete(p)), key=_step_of)
    chosen = named if named is not None and _complete(named) else (candidates[-1] if candidates else None)
    if chosen is None:
        if named is not None or any(folder.iterdir()):
            pointed = named.name if named else "nothing"
            raise CheckpointError(
                f"{folder}: no complete checkpoint to resume from ({LATEST} names {pointed}); "
                "restarting the stage would lose its steps. Remove the folder to start the stage again"
            )
        say(f"[{stage}] no checkpoint to resume from; starting the stage at step 0")
        return None
    if named is not None and chosen != named:
        say(f"[{stage}] {LATEST} names {named.name}, which is missing or incomplete; using {chosen.name}")
    say(f"[{stage}] resuming from {chosen} (step {_step_of(chosen)})")
    return chosen


def read_checkpoint_meta(target: Path) -> dict[str, Any]:
    """What a checkpoint folder says of itself: its stage, kind and step; a damaged file is a ``CheckpointError``."""
    path = target / CHECKPOINT_META
    refuse_special_file(path)
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint description ({type(exc).__name__})") from None
    if not isinstance(loaded, dict):
        raise CheckpointError(f"{path}: a JSON object (stage, kind, step) expected, found {type(loaded).__name__}")
    return loaded


def read_checkpoint(target: Path, modules: Mapping[str, nn.Module]) -> dict[str, Any]:
    """Load every module's weights and return the trainer state."""
    for name, module in modules.items():
        load_module(module, module_file(target, name))
        bad = non_finite(module)
        if bad is not None:
            raise CheckpointError(
                f"{module_file(target, name)}: holds NaN or infinite weights ({bad}); a run cannot continue "
                "from it. Remove this checkpoint folder to resume from the one before it"
            )
    state = load_state(target / "trainer_state.pt")
    if not isinstance(state, dict) or "step" not in state:
        raise CheckpointError(f"{target / 'trainer_state.pt'}: not a dlmkit trainer state (no 'step')")
    step, numbered = state["step"], re.fullmatch(r"step_(\d+)", target.name)
    if not isinstance(step, int) or isinstance(step, bool) or step < 0 or (numbered and int(numbered[1]) != step):
        raise CheckpointError(
            f"{target / 'trainer_state.pt'}: step {step!r} does not match its folder {target.name}; the checkpoint "
            "is damaged, so remove this folder to resume from the one before it"
        )
    return state


@contextlib.contextmanager
def restoring(target: Path) -> Iterator[None]:
    """Turn a trainer state that does not fit the stage (a key missing, a wrong shape) into a clear error."""
    try:
        yield
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
        raise CheckpointError(
            f"{target}: this checkpoint does not fit the stage ({type(exc).__name__}: {exc}); "
            "resume with the recipe that wrote it, or remove the stage's ckpt folder to start the stage again"
        ) from None

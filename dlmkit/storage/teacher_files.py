"""Saving and loading teachers: dlmkit safetensors files, or any format a plugin knows how to read."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import torch

from dlmkit.errors import CheckpointError, Problem
from dlmkit.interfaces import Teacher
from dlmkit.interfaces.teacher import as_module
from dlmkit.storage.checkpoint import load_module, read_metadata, refuse_special_file, save_module
from dlmkit.storage.memory_budget import refuse_unless_fits
from dlmkit.structuring import MISSING, Structurer, unstructure

TEACHER_FILE = "teacher.safetensors"
FORMAT = "dlmkit-teacher/1"


def save_teacher(
    teacher: Teacher, path: Path, extra: Mapping[str, str] | None = None, dtype: torch.dtype | None = None
) -> None:
    """Write ``teacher`` with the metadata needed to rebuild it without a recipe.

    ``dtype`` stores the weights in a smaller type (fp16 halves a shipped checkpoint); loading
    casts them back to the model's float32.
    """
    from dlmkit.plugins import get_plugins
    from dlmkit.version import __version__

    plugins = {info.distribution: info.version for info in get_plugins().infos() if not info.builtin}
    meta = {
        "format": FORMAT,
        "component": teacher.component,
        "config": json.dumps(unstructure(teacher.config)),
        "vocab_size": str(teacher.vocab_size),
        "seq_len": str(teacher.seq_len),
        "dlmkit_version": __version__,
        "plugins": json.dumps(plugins),
        **(extra or {}),
    }
    module = as_module(teacher)
    if dtype is not None:
        module = copy.deepcopy(module).to(dtype)
        meta["stored_dtype"] = str(dtype).removeprefix("torch.")
    save_module(module, path, meta)


def build_teacher(component: str, config: Mapping[str, Any], vocab_size: int, seq_len: int, where: str) -> Teacher:
    """Rebuild a registered teacher from plain config data."""
    from dlmkit.plugins import failed_plugins_note, get_registry

    registry = get_registry()
    if component not in registry.entries["teacher"]:
        note = failed_plugins_note() or " (is its plugin installed?)"
        raise CheckpointError(f"{where}: {registry.missing_message('teacher', component)}{note}")
    entry = registry.get("teacher", component)
    problems: list[Problem] = []
    params = None
    if entry.params is not None:
        params = Structurer(None, problems).structure(entry.params, dict(config), f"{where} config")
        if params is MISSING:
            raise CheckpointError(
                f"{where}: stored config does not fit teacher '{component}': " + "; ".join(p.render() for p in problems)
            )
    teacher: Teacher = entry.build(params, vocab_size=vocab_size, seq_len=seq_len)
    return teacher


@attrs.frozen
class TeacherHeader:
    """What a dlmkit teacher file says about the network it holds, read without the weights."""

    component: str
    config: dict[str, Any]
    vocab_size: int
    seq_len: int

    def build(self, where: str) -> Teacher:
        """The network this header describes, with the plugin's freshly initialised weights."""
        return build_teacher(self.component, self.config, self.vocab_size, self.seq_len, where)


def _teacher_file_in(path: Path) -> Path:
    """A folder names its ``teacher.safetensors``; a file is itself."""
    return path / TEACHER_FILE if path.is_dir() else path


def read_teacher_header(path: Path) -> TeacherHeader:
    """The metadata of a dlmkit teacher file; a damaged or foreign file is a ``CheckpointError`` naming it."""
    meta = read_metadata(path)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a dlmkit teacher file (no '{FORMAT}' metadata)")
    try:
        config = json.loads(meta["config"])
        if not isinstance(config, dict):
            raise ValueError(f"config is a JSON {type(config).__name__}, not an object")
        sizes = {key: int(meta[key]) for key in ("vocab_size", "seq_len")}
        for key, value in sizes.items():
            if value < 1:
                raise ValueError(f"{key} is {value}, must be a positive count")
        return TeacherHeader(meta["component"], config, sizes["vocab_size"], sizes["seq_len"])
    except (KeyError, ValueError, RecursionError) as exc:
        raise CheckpointError(
            f"{path}: damaged teacher metadata ({type(exc).__name__}: {exc}); "
            "a dlmkit teacher file holds 'component', a JSON 'config', 'vocab_size' and 'seq_len'"
        ) from None


def check_teacher_file(path: Path) -> None:
    """What loading would find wrong short of the weights: the header, the plugin and its config, with the
    network built on the meta device (no memory, no time); files of plugin formats are left to load time."""
    candidate = _teacher_file_in(path)
    if candidate.suffix != ".safetensors" or not candidate.is_file():
        return
    _fitting_header(candidate)


def _fitting_header(candidate: Path) -> TeacherHeader:
    """The file's header, once the network it describes is known to fit this machine."""
    header = read_teacher_header(candidate)
    refuse_unless_fits(lambda: as_module(header.build(str(candidate))), str(candidate))
    return header


def load_teacher(path: str | Path) -> Teacher:
    """Load a teacher from a dlmkit checkpoint, or from a format a plugin reads (official DiffuSeq ``.pt``).

    The teacher is returned in eval mode.
    """
    source = Path(path)
    if not source.exists():
        raise CheckpointError(f"{source}: no such file or folder")
    refuse_special_file(source)
    candidate = _teacher_file_in(source)
    if candidate.suffix == ".safetensors" and candidate.is_file():
        teacher = _fitting_header(candidate).build(str(candidate))
        load_module(teacher, candidate)  # type: ignore[arg-type]
    else:
        from dlmkit.plugins import get_plugins

        loaded = get_plugins().hook.load_teacher_checkpoint(path=source)
        if loaded is None:
            raise CheckpointError(
                f"{source}: no installed plugin reads this format; expected a dlmkit '{TEACHER_FILE}' or a format a "
                "teacher plugin supports (dlmkit-diffuseq reads official ema_*.pt files)"
            )
        teacher = loaded
    for name, tensor in as_module(teacher).state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(
                f"{candidate}: tensor '{name}' holds NaN or infinite values; this teacher cannot be used"
            )
    teacher.eval()
    return teacher

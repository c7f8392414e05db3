"""A self-contained bundle: one folder that a ``Generator`` loads with no run folder, recipe or data.

``dlmkit export RUN DEST`` writes the model (``model.safetensors``, a dlmkit teacher file), the
tokenizer's vocabulary (``vocab.txt``), ``bundle.json`` (the noise schedule, the sampler with its
``t_init``, the injector, the sequence length and the vocabulary's hash) and ``MODEL_CARD.md`` with
the run's measured numbers.  Loading checks that the parts agree and names the one that does not.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path
from typing import Any

from dlmkit.errors import UserError
from dlmkit.inference.sources import OpenedSource, Role
from dlmkit.interfaces import NoiseSchedule, Teacher
from dlmkit.recipe.schema import ComponentRef
from dlmkit.structuring import unstructure

FORMAT = "dlmkit-bundle"
VERSION = 1
MANIFEST, MODEL, VOCAB, CARD = "bundle.json", "model.safetensors", "vocab.txt", "MODEL_CARD.md"


def is_bundle(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).is_file()


def _table(ref: ComponentRef) -> dict[str, Any]:
    return {"name": ref.name, **(unstructure(ref.params) if ref.params is not None else {})}


def write_bundle(opened: OpenedSource, role: Role, dest: Path) -> Path:
    """Write ``role``'s model of ``opened`` (a run folder) into the new folder ``dest``, atomically."""
    from dlmkit.storage.atomic import atomic_directory, write_text_atomic
    from dlmkit.storage.teacher_files import load_teacher, save_teacher

    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UserError(f"{dest}: exists and is not an empty folder; export into a new folder")
    tokens = getattr(opened.dataset.tokenizer, "tokens", None)
    if not isinstance(tokens, list) or not hasattr(opened.dataset.tokenizer, "vocab_sha256"):
        raise UserError(f"{opened.path}: its tokenizer is not a WordPiece vocabulary, which a bundle stores")
    source = opened.model_path(role)
    model = load_teacher(source)
    text = "".join(f"{token}\n" for token in tokens)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "role": role,
        "exported_from": str(opened.path),
        "exported": datetime.date.today().isoformat(),
        "vocab_size": len(tokens),
        "vocab_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "seq_len": opened.dataset.seq_len,
        "schedule": _table(opened.recipe.schedule),
        "sampler": _table(opened.recipe.sampler),
        "injector": _table(opened.recipe.injector),
    }
    results = _results(opened)
    with atomic_directory(dest) as tmp:
        save_teacher(model, tmp / MODEL, {"exported_from": str(source)})
        write_text_atomic(tmp / VOCAB, text)
        write_text_atomic(tmp / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        write_text_atomic(tmp / CARD, model_card(manifest, results))
    return dest


def _results(opened: OpenedSource) -> dict[str, Any]:
    if opened.run_dir is None or not (opened.run_dir / "results.json").is_file():
        return {}
    try:
        data = json.loads((opened.run_dir / "results.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def model_card(manifest: dict[str, Any], results: dict[str, Any]) -> str:
    """What the bundle is, how to use it, and the numbers its run measured."""
    lines = [
        f"# {manifest['role']} exported from {manifest['exported_from']}",
        "",
        f"Exported {manifest['exported']} by dlmkit.  Sampler `{manifest['sampler']['name']}`"
        + (f" from t_init {manifest['sampler']['t_init']}" if "t_init" in manifest["sampler"] else "")
        + f", schedule `{manifest['schedule']['name']}`, sequence length {manifest['seq_len']}, "
        f"vocabulary of {manifest['vocab_size']} tokens.",
        "",
        "```bash",
        'dlmkit generate THIS_FOLDER "How can I learn Python quickly?"',
        "```",
        "",
    ]
    rows = {k: v for k, v in results.items() if isinstance(v, dict)}
    if rows:
        lines += ["Measured by its run (results.json):", "", "| model | metric | value |", "|---|---|---|"]
        for name, row in rows.items():
            for metric, value in row.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    lines.append(f"| {name} | {metric} | {value:.4g} |")
    else:
        lines.append("Its run had no results.json (no [eval] table), so no measured numbers are recorded.")
    return "\n".join(lines) + "\n"


def read_bundle(path: Path) -> tuple[Teacher, Any, NoiseSchedule, ComponentRef, int]:
    """The model, tokenizer, schedule, sampler reference and sequence length of a bundle; parts are checked."""
    from dlmkit.data.wordpiece import WordPieceTokenizer
    from dlmkit.plugins import build, get_registry
    from dlmkit.storage.teacher_files import load_teacher

    manifest = _manifest(path)
    vocab = path / VOCAB
    if not vocab.is_file():
        raise UserError(f"{path}: the bundle lacks {VOCAB}")
    digest = hashlib.sha256(vocab.read_bytes()).hexdigest()
    if digest != manifest["vocab_sha256"]:
        raise UserError(f"{vocab}: does not match {MANIFEST}'s vocab_sha256; the vocabulary was changed or replaced")
    tokenizer = WordPieceTokenizer(vocab)
    model = load_teacher(path / MODEL)
    for part, mine, theirs in (
        ("vocab_size", model.vocab_size, tokenizer.vocab_size),
        ("seq_len", model.seq_len, manifest["seq_len"]),
    ):
        if mine != theirs:
            raise UserError(f"{path / MODEL}: {part} {mine} disagrees with the bundle's {theirs} ({MANIFEST}, {VOCAB})")
    registry = get_registry()
    refs = {}
    for kind, key in (("schedule", "schedule"), ("sampler", "sampler")):
        table = dict(manifest[key])
        name = table.pop("name")
        try:
            entry = registry.get(kind, name)
            refs[key] = ComponentRef(kind, name, entry.make_params(**table))
        except Exception as exc:
            raise UserError(f"{path / MANIFEST}: its {key} {name!r} cannot be rebuilt here: {exc}") from None
    schedule: NoiseSchedule = build("schedule", refs["schedule"].name, refs["schedule"].params)
    if schedule.num_timesteps != model.num_timesteps:
        raise UserError(
            f"{path / MANIFEST}: the schedule has {schedule.num_timesteps} steps but the model was trained on "
            f"{model.num_timesteps}"
        )
    return model, tokenizer, schedule, refs["sampler"], int(manifest["seq_len"])


def _manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UserError(f"{path / MANIFEST}: not a readable bundle manifest ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("version"), int):
        raise UserError(f"{path / MANIFEST}: not a dlmkit bundle (format {FORMAT!r} expected)")
    if data["version"] > VERSION:
        raise UserError(
            f"{path / MANIFEST}: bundle version {data['version']} is newer than this dlmkit reads ({VERSION}); "
            "upgrade dlmkit"
        )
    needed = ("role", "vocab_sha256", "seq_len", "schedule", "sampler")
    missing = [k for k in needed if k not in data]
    if missing or not isinstance(data["schedule"], dict) or not isinstance(data["sampler"], dict):
        raise UserError(f"{path / MANIFEST}: missing or malformed {', '.join(missing) or 'schedule/sampler'}")
    return data

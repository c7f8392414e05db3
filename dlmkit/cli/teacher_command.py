"""``dlmkit teacher``: convert official teacher checkpoints into dlmkit's format."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import torch

from dlmkit.engine.pipeline import fresh_teacher
from dlmkit.errors import UserError
from dlmkit.inference.sources import build_dataset
from dlmkit.interfaces import Teacher
from dlmkit.interfaces.stage import TEACHER_ARTIFACT
from dlmkit.interfaces.teacher import as_module
from dlmkit.recipe.load import load_recipe
from dlmkit.stages.train_teacher.runner import EMA_MODULE
from dlmkit.storage.checkpoint import CHECKPOINT_META, load_module, module_file, read_checkpoint_meta, read_metadata
from dlmkit.storage.run_layout import RunFolder
from dlmkit.storage.teacher_files import TEACHER_FILE, load_teacher, save_teacher


@click.group("teacher")
def teacher_group() -> None:
    """Work with teacher checkpoints."""


@teacher_group.command("import")
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.argument("dest", type=click.Path(path_type=Path))
def import_command(src: Path, dest: Path) -> None:
    """Convert SRC (an official ema_*.pt, or a folder holding one and training_args.json) into DEST.

    DEST is a .safetensors file, or a folder that receives teacher.safetensors.
    """
    teacher = load_teacher(src)
    target = dest if dest.suffix == ".safetensors" else dest / TEACHER_FILE
    save_teacher(teacher, target, {"imported_from": src.resolve().name})
    params = sum(p.numel() for p in teacher.parameters())
    click.echo(
        f"wrote {target} ({teacher.component}, {params:,} parameters, "
        f"vocab {teacher.vocab_size}, seq_len {teacher.seq_len})"
    )


DTYPES = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}


def _from_training_checkpoint(folder: Path) -> Teacher:
    """The EMA teacher of a ``train_teacher`` checkpoint folder (``<run>/<stage>/ckpt/step_NNNNNNN``)."""
    run = RunFolder.of_checkpoint(folder)
    run_dir = run.root
    recipe = load_recipe(run.resolved_recipe)
    if recipe.teacher.checkpoint is not None:
        teacher = load_teacher(recipe.teacher.checkpoint)  # the architecture; the EMA weights replace its own
    else:
        dataset = build_dataset(recipe, run_dir)
        teacher = fresh_teacher(recipe, dataset.tokenizer, dataset.seq_len)
    load_module(as_module(teacher), module_file(folder, EMA_MODULE))
    return teacher


PROVENANCE_KEYS = ("stage", "step", "val_loss")


def _provenance(source: Path) -> dict[str, str]:
    """Which stage and step an exported teacher comes from, without this machine's paths (it ships)."""
    found = read_metadata(source) if source.is_file() else read_checkpoint_meta(source)
    return {"exported_from": source.name, **{k: str(found[k]) for k in PROVENANCE_KEYS if k in found}}


def _teacher_file(src: Path) -> Path:
    """A teacher file from a file, or from a run folder (its last train_teacher stage)."""
    if src.is_file():
        return src
    teacher = RunFolder(src).last_artifact(TEACHER_ARTIFACT)
    if teacher is not None:
        return teacher
    if (src / TEACHER_FILE).is_file():
        return src / TEACHER_FILE
    raise UserError(f"{src}: neither a teacher file nor a run folder with a finished train_teacher stage")


@teacher_group.command("export")
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--dtype", type=click.Choice(sorted(DTYPES)), default="fp32", help="Storage type of the weights.")
def export_command(src: Path, dest: Path, dtype: str) -> None:
    """Copy a trained teacher into DEST with its vocabulary, ready to ship.

    SRC is a teacher file, a run folder (its last train_teacher stage), or one of a train_teacher
    stage's checkpoint folders (its EMA weights).
    """
    if module_file(src, EMA_MODULE).is_file() and (src / CHECKPOINT_META).is_file():
        source = src
        teacher = _from_training_checkpoint(src)
        src = RunFolder.of_checkpoint(src).root
    else:
        source = _teacher_file(src)
        teacher = load_teacher(source)
    dest.mkdir(parents=True, exist_ok=True)
    save_teacher(teacher, dest / TEACHER_FILE, _provenance(source), dtype=DTYPES[dtype])
    for vocab in (source.parent / "vocab.txt", source.parent.parent / "vocab.txt", src / "vocab.txt"):
        if vocab.is_file():
            shutil.copyfile(vocab, dest / "vocab.txt")
            break
    size = (dest / TEACHER_FILE).stat().st_size / 2**20
    click.echo(f"wrote {dest / TEACHER_FILE} ({size:.1f} MiB, {dtype})")

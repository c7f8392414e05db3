"""``dlmkit teacher``: convert official teacher checkpoints into dlmkit's format."""

from __future__ import annotations

from pathlib import Path

import click

from dlmkit.engine.teacher_files import TEACHER_FILE, load_teacher, save_teacher


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
    save_teacher(teacher, target, {"imported_from": str(src.resolve())})
    params = sum(p.numel() for p in teacher.parameters())
    click.echo(
        f"wrote {target} ({teacher.component}, {params:,} parameters, "
        f"vocab {teacher.vocab_size}, seq_len {teacher.seq_len})"
    )

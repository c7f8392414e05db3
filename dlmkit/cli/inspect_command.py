"""``dlmkit inspect``: what a checkpoint holds, without loading a model."""

from __future__ import annotations

import json
from pathlib import Path

import click
import safetensors

from dlmkit.errors import CheckpointError
from dlmkit.storage.checkpoint import CHECKPOINT_META, latest_checkpoint, read_checkpoint_meta, read_metadata


def _config_text(value: str) -> str:
    """The config on one line, or a note that it is damaged: inspect shows a broken file, it does not stop at it."""
    try:
        return json.dumps(json.loads(value))
    except (ValueError, RecursionError) as exc:
        return f"(damaged: not JSON, {type(exc).__name__}) {value[:80]}..."


@click.command("inspect")
@click.argument("checkpoint", type=click.Path(exists=True, path_type=Path))
def inspect_command(checkpoint: Path) -> None:
    """Show metadata, tensors and parameter counts of a checkpoint file or folder."""
    if checkpoint.is_dir():
        target = latest_checkpoint(checkpoint) or checkpoint
        meta_file = target / CHECKPOINT_META
        if meta_file.is_file():
            click.echo(f"checkpoint folder: {target}")
            click.echo(json.dumps(read_checkpoint_meta(target), indent=2))
        files = sorted(target.glob("*.safetensors"))
        if not files:
            raise CheckpointError(f"{checkpoint}: no .safetensors files here")
    else:
        files = [checkpoint]
    for path in files:
        meta = read_metadata(path)
        with safetensors.safe_open(str(path), framework="pt") as handle:
            keys = list(handle.keys())
            count = 0
            for key in keys:
                shape = handle.get_slice(key).get_shape()
                n = 1
                for d in shape:
                    n *= d
                count += n
        click.echo(f"{path}: {len(keys)} tensors, {count:,} values")
        for key, value in meta.items():
            shown = value if len(value) < 400 else value[:400] + "..."
            if key == "config":
                shown = _config_text(value)
            click.echo(f"  {key}: {shown}")

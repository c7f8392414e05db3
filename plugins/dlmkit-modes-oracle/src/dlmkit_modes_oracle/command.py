"""``dlmkit modes-oracle SOURCE DEST``: write the exact teacher of the modes task as a teacher file."""

from __future__ import annotations

from pathlib import Path

import attrs
import click


@click.command("modes-oracle")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--schedule", default="sqrt", show_default=True, help="The recipe's [schedule] name.")
@click.option("--num-timesteps", default=2000, show_default=True, type=click.IntRange(min=2))
def modes_oracle_command(source: Path, dest: Path, schedule: str, num_timesteps: int) -> None:
    """Write DEST/teacher.safetensors: the modes oracle on the embedding table of the teacher file SOURCE.

    Point a recipe's [teacher] checkpoint at it, and the distill stages' student_from / psi_from at
    SOURCE, to distill from an exact teacher (recipes/proof_modes_oracle.toml).
    """
    from dlmkit.data.modes import SPECIAL
    from dlmkit.storage.teacher_files import TEACHER_FILE, load_teacher, save_teacher
    from dlmkit_modes_oracle.oracle import ModesOracleParams, build_modes_oracle

    learned = load_teacher(source)
    params = ModesOracleParams(embeddings=str(source.resolve()), schedule=schedule, num_timesteps=num_timesteps)
    tokens = [*SPECIAL, *(f"w{i}" for i in range(learned.vocab_size - len(SPECIAL)))]
    oracle = build_modes_oracle(params, vocab_size=learned.vocab_size, seq_len=learned.seq_len, tokens=tokens)
    oracle.config = attrs.evolve(oracle.config, embeddings=None)  # the file holds the table: no local path kept
    dest.mkdir(parents=True, exist_ok=True)
    save_teacher(oracle, dest / TEACHER_FILE, {"embeddings_from": source.name})
    size = f"{oracle.vocab_size} x {oracle.embed_dim}"
    click.echo(f"wrote {dest / TEACHER_FILE}: modes oracle, {size} table, seq_len {oracle.seq_len}")

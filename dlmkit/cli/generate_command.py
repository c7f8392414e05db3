"""``dlmkit generate``: paraphrase your own text with a distilled student (or a teacher and a sampler).

Sources come from the arguments, from ``--file`` (one per line) or from standard input; outputs are
clean text, one line each (``--format jsonl`` writes one record per source with all its outputs).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from dlmkit.cli.options import set_option
from dlmkit.cli.progress_bar import sequence_bar
from dlmkit.engine.progress import console
from dlmkit.errors import UserError
from dlmkit.storage.atomic import write_text_atomic

#: Input read from a file or standard input is text: this much is more than anyone paraphrases at once.
MAX_INPUT_BYTES = 64 << 20


def read_lines(data: bytes, where: str) -> list[str]:
    """The non-final lines of UTF-8 text; an empty or whitespace-only line is refused by its number."""
    if len(data) > MAX_INPUT_BYTES:
        raise UserError(f"{where}: {len(data):,} bytes; give at most {MAX_INPUT_BYTES:,} bytes of sources")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise UserError(f"{where}: binary data (a NUL byte at offset {nul}); give UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{where}: not UTF-8 text (byte {exc.start}); give one source per line in UTF-8") from None
    lines = text.splitlines()
    empty = [i + 1 for i, line in enumerate(lines) if not line.strip()]
    if empty:
        shown = ", ".join(map(str, empty[:5])) + (" ..." if len(empty) > 5 else "")
        raise UserError(f"{where}: line {shown} is empty or only whitespace; give one source per line")
    if not lines:
        raise UserError(f"{where}: no sources; give one source per line")
    return lines


@click.command("generate")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.argument("texts", nargs=-1)
@click.option("--file", "from_file", type=click.Path(dir_okay=False, path_type=Path), help="One source per line.")
@click.option("--model", "role", type=click.Choice(["teacher", "student"]), default=None, help="[default: the student]")
@click.option("--sampler", default=None, help="A registered sampler, e.g. dpm_solver_pp for a teacher.")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Sampler steps (a student: 1).")
@click.option("--num-samples", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--mbr", is_flag=True, help="Print the MBR choice among --num-samples outputs.")
@click.option("--seed", type=int, default=0, show_default=True, help="Output k of a source uses seed + k.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text", show_default=True)
@click.option("--no-truncate", is_flag=True, help="Refuse sources longer than the model's condition.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (atomically), not stdout.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None)
@set_option
def generate_command(
    source: Path,
    texts: tuple[str, ...],
    from_file: Path | None,
    role: str | None,
    sampler: str | None,
    steps: int | None,
    num_samples: int,
    mbr: bool,
    seed: int,
    batch_size: int,
    fmt: str,
    no_truncate: bool,
    out: Path | None,
    device: str | None,
    overrides: tuple[str, ...],
) -> None:
    """Paraphrase TEXTS (or --file, or stdin) with SOURCE: a run folder (its student) or a recipe (its teacher).

    Example: dlmkit generate runs/quickstart "How can I learn Python quickly?"
    """
    from dlmkit.inference.generator import Generator

    if texts and from_file is not None:
        raise UserError("give sources as arguments or with --file, not both")
    if texts:
        sources = list(texts)
    elif from_file is not None:
        sources = read_lines(from_file.read_bytes(), str(from_file))
    elif not sys.stdin.isatty():
        sources = read_lines(sys.stdin.buffer.read(), "standard input")
    else:
        raise UserError("no sources: give them as arguments, with --file FILE, or on standard input")
    generator = Generator.load(source, model=role, sampler=sampler, steps=steps, device=device, overrides=overrides)  # type: ignore[arg-type]
    with sequence_bar("generating", len(sources) * num_samples) as advance:
        outputs = generator.generate(
            sources,
            num_samples=num_samples,
            seed=seed,
            batch_size=batch_size,
            mbr=mbr,
            truncate=not no_truncate,
            progress=advance,
        )
    if generator.truncated:
        where = str(from_file) if from_file is not None else "the input"
        console.print(
            f"warning: {where}: {generator.truncated} source(s) were longer than the model's condition and were "
            "cut (--no-truncate refuses them)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if fmt == "jsonl":
        lines = [
            json.dumps({"source": s, "outputs": o}, ensure_ascii=False) for s, o in zip(sources, outputs, strict=True)
        ]
    else:
        lines = [text for group in outputs for text in group]
    body = "".join(line + "\n" for line in lines)
    if out is not None:
        write_text_atomic(out, body)
        console.print(f"wrote {len(lines)} lines to {out}", markup=False, highlight=False)
    else:
        click.echo(body, nl=False)

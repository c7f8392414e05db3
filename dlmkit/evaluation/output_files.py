"""DiffuSeq's generation output files: one JSON object per line with ``recover``, ``reference``, ``source``.

The official sampler writes ``print(json.dumps({"recover": ..., "reference": ..., "source": ...}))``
per example, one file per seed, and line k of every seed's file is the same example.  Reading
accepts those files as they are (extra keys are ignored, a missing final newline and trailing
blank lines are fine); writing produces the same bytes the official code would.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from dlmkit.errors import UserError

OUTPUT_KEYS = ("recover", "reference", "source")
_EXPECTED = "each line must be one JSON object with string keys recover, reference, source"
#: Longest text a row may hold, in whitespace-separated words.  ROUGE-L's LCS costs the product of two
#: lengths, so one 200,000-word line ran for minutes; generated sequences are at most a few hundred.
MAX_WORDS = 10_000
#: A row is a few hundred characters; a longer line is not an output file, and is not read whole.
MAX_LINE_CHARS = 1 << 20
#: Word pairs the metrics may compare in one command (LCS cells of ROUGE-L, and across seeds for MBR,
#: self-BLEU and div-4): about 100x the whole QQP test split at 128 words a row, a few seconds' work, where
#: 20 rows of 9,999 words each asked for 2e9 and ran for minutes.
MAX_WORD_PAIRS = 10**8


@attrs.frozen
class OutputRow:
    """One generated example: the model output, the (tokenised) reference and the source, as decoded."""

    recover: str = attrs.field(validator=attrs.validators.instance_of(str))
    reference: str = attrs.field(validator=attrs.validators.instance_of(str))
    source: str = attrs.field(validator=attrs.validators.instance_of(str))

    def to_json(self) -> str:
        """The line the official sampler writes (without its newline)."""
        return json.dumps({"recover": self.recover, "reference": self.reference, "source": self.source})


def row_from_mapping(data: Mapping[str, Any], where: str) -> OutputRow:
    """Build a row from a decoded JSON object, naming ``where`` in every complaint."""
    missing = [key for key in OUTPUT_KEYS if key not in data]
    if missing:
        raise UserError(f"{where}: missing key{'s' if len(missing) > 1 else ''} {', '.join(missing)}; {_EXPECTED}")
    for key in OUTPUT_KEYS:
        if not isinstance(data[key], str):
            raise UserError(f"{where}: key {key!r} holds {type(data[key]).__name__}, not a string; {_EXPECTED}")
        words = len(data[key].split())  # any whitespace separates words, as the metrics split them
        if words > MAX_WORDS:
            raise UserError(f"{where}: key {key!r} holds {words:,} words; rows hold at most {MAX_WORDS:,}")
    return OutputRow(recover=data["recover"], reference=data["reference"], source=data["source"])


def _parse_line(line: str, where: str) -> OutputRow:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserError(f"{where}: not valid JSON ({exc.msg}, column {exc.colno}); {_EXPECTED}") from None
    except RecursionError:
        raise UserError(f"{where}: JSON nested too deeply; {_EXPECTED}") from None
    if not isinstance(data, dict):
        raise UserError(f"{where}: a JSON {type(data).__name__}, not an object; {_EXPECTED}")
    return row_from_mapping(data, where)


def read_output_file(path: str | os.PathLike[str]) -> list[OutputRow]:
    """Every row of one output file, in order."""
    name = os.fspath(path)
    if os.path.exists(name) and not os.path.isfile(name) and not os.path.isdir(name):
        raise UserError(f"{name}: not a regular file (a FIFO, socket or device); give an output .json file")
    try:
        with open(path, encoding="utf-8") as handle:
            lines: list[str] = []
            while line := handle.readline(MAX_LINE_CHARS + 1):
                if len(line) > MAX_LINE_CHARS:
                    raise UserError(f"{name}, line {len(lines) + 1}: longer than {MAX_LINE_CHARS:,} characters")
                lines.append(line)
    except FileNotFoundError:
        raise UserError(f"{name}: no such output file") from None
    except IsADirectoryError:
        raise UserError(f"{name}: is a directory; give the output .json file(s) inside it") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start}); {_EXPECTED}") from None
    except OSError as exc:
        raise UserError(f"{name}: cannot read ({exc.strerror})") from None
    while lines and not lines[-1].strip():
        lines.pop()  # a final newline, or blank lines after the last row
    rows = []
    for number, line in enumerate(lines, start=1):
        where = f"{name}, line {number}"
        if not line.strip():
            raise UserError(f"{where}: empty line; {_EXPECTED}")
        rows.append(_parse_line(line, where))
    return rows


def read_output_files(paths: Sequence[str | os.PathLike[str]]) -> list[list[OutputRow]]:
    """Several seeds' files, in the order given; they must all hold the same number of examples."""
    sets = [read_output_file(path) for path in paths]
    if sets and len({len(rows) for rows in sets}) > 1:
        counts = ", ".join(f"{os.fspath(p)} has {len(rows)}" for p, rows in zip(paths, sets, strict=True))
        raise UserError(f"output files differ in length ({counts} rows); line k of every file must be the same example")
    pairs = word_pairs(sets)
    if pairs > MAX_WORD_PAIRS:
        raise UserError(
            f"{', '.join(os.fspath(p) for p in paths)}: scoring would compare {pairs:.2g} word pairs (at most "
            f"{MAX_WORD_PAIRS:.0g}); generated rows hold tens of words, so are these output files?"
        )
    return sets


def word_pairs(sets: Sequence[Sequence[OutputRow]]) -> int:
    """Word pairs the metrics compare: output against reference in every file, and the seeds' outputs of each
    example against one another (MBR, self-BLEU, div-4) when there are several files."""
    total = sum(len(r.recover.split()) * len(r.reference.split()) for rows in sets for r in rows)
    if len(sets) > 1:
        for example in zip(*sets, strict=True):
            lengths = [len(r.recover.split()) for r in example]
            total += sum(lengths) ** 2
    return total


def write_output_file(path: str | os.PathLike[str], rows: Iterable[OutputRow]) -> Path:
    """Write rows exactly as the official sampler does: ``json.dumps`` per line, keys in its order."""
    target = Path(path)
    try:
        with open(target, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(row.to_json() + "\n")
    except OSError as exc:
        raise UserError(f"{os.fspath(path)}: cannot write ({exc.strerror})") from None
    return target

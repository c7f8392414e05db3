"""Reading DiffuSeq's ``{"src": ..., "trg": ...}`` JSON Lines files (plain or gzip-compressed).

DiffuSeq reads every line with ``json.loads`` and ``.strip()``s both fields; we do the same, but a
line that DiffuSeq would crash on (or, worse, that another reader would silently drop) becomes a
:class:`~dlmkit.errors.UserError` naming the file and the 1-based line.  Blank lines are errors too:
in a seq2seq file they almost always mean a broken export, and skipping them would shift the
line numbers that users compare against other tools.  A missing newline after the last line is
fine (DiffuSeq's own QQP and Quasar-T files end that way).
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from pathlib import Path

from dlmkit.errors import UserError


def _open_binary(path: Path) -> gzip.GzipFile | io.BufferedReader:
    """Open ``path`` for reading bytes, transparently decompressing ``.gz`` files."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


#: A DiffuSeq line is one sentence pair; past this a line is a broken export (or a gzip bomb) and would
#: only be read into memory whole to fail in the tokenizer.
MAX_LINE_BYTES = 1 << 20
#: WordPiece turns a word longer than 100 characters into [UNK] anyway; a far longer one stalls the tokenizer.
MAX_WORD_CHARS = 1000


def _raw_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, raw_line)``; I/O and gzip failures become UserErrors naming the file.

    A line is read at most ``MAX_LINE_BYTES`` at a time, so one huge line cannot fill the memory.
    """
    try:
        with _open_binary(path) as handle:
            lineno = 0
            while True:
                raw = handle.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    return
                lineno += 1
                if len(raw) > MAX_LINE_BYTES:
                    raise UserError(
                        f"{path}, line {lineno}: longer than {MAX_LINE_BYTES:,} bytes; a line is one "
                        '{"src", "trg"} pair (is the file broken, or not JSON Lines?)'
                    )
                yield lineno, raw
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except (OSError, EOFError, zlib.error) as err:
        raise UserError(f"{path}: cannot read ({err}); expected a JSON Lines file, optionally gzip-compressed") from err


def read_jsonl_pairs(
    path: str | Path,
    *,
    src_field: str = "src",
    trg_field: str = "trg",
    limit: int | None = None,
) -> tuple[list[str], list[str]]:
    """Read the first ``limit`` (or all) condition/target pairs of a DiffuSeq jsonl file, in file order.

    Returns ``(sources, targets)`` with both strings ``.strip()``ed.  Other keys on a line (such as
    Wiki-Auto's ``"refs"``) are ignored.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0 or None, got {limit}")
    path = Path(path)
    expected = f'one JSON object per line with string keys "{src_field}" and "{trg_field}"'
    sources: list[str] = []
    targets: list[str] = []
    if limit == 0:
        return sources, targets
    for lineno, raw in _raw_lines(path):
        where = f"{path}, line {lineno}"
        try:
            text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError as err:
            raise UserError(f"{where}: not valid UTF-8 ({err.reason}); expected {expected}") from None
        if not text.strip():
            raise UserError(f"{where}: blank line; expected {expected} (remove the empty line)")
        try:
            record = json.loads(text)
        except json.JSONDecodeError as err:
            raise UserError(f"{where}: invalid JSON ({err.msg} at column {err.colno}); expected {expected}") from None
        except RecursionError:
            raise UserError(f"{where}: JSON nested too deeply; expected {expected}") from None
        if not isinstance(record, dict):
            raise UserError(f"{where}: got a JSON {type(record).__name__}; expected {expected}")
        pair: list[str] = []
        for field in (src_field, trg_field):
            if field not in record:
                found = ", ".join(repr(k) for k in record) or "none"
                raise UserError(f'{where}: missing key "{field}" (keys found: {found}); expected {expected}')
            value = record[field]
            if not isinstance(value, str):
                raise UserError(f'{where}: key "{field}" holds a {type(value).__name__}; expected a string')
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise UserError(f'{where}: key "{field}" holds a lone surrogate escape (\\ud800-\\udfff)') from None
            longest = max(value.split(), key=len, default="")
            if len(longest) > MAX_WORD_CHARS:
                raise UserError(
                    f'{where}: key "{field}" holds a word of {len(longest):,} characters (at most {MAX_WORD_CHARS:,}); '
                    "expected sentences"
                )
            pair.append(value.strip())
        sources.append(pair[0])
        targets.append(pair[1])
        if limit is not None and len(sources) >= limit:
            _check_gzip_whole(path)
            break
    return sources, targets


def _check_gzip_whole(path: Path) -> None:
    """Read a ``.gz`` file to its end without keeping it, so a wrong CRC, a cut file or garbage after the last
    member is refused even when only its first lines are used (a damaged download must not train silently)."""
    if path.suffix != ".gz":
        return
    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as err:
        raise UserError(f"{path}: damaged gzip file ({err}); download or compress it again") from None

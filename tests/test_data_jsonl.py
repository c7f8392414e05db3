"""DiffuSeq jsonl reading: stripping, gzip, limits, and errors that name the file and line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlmkit.data.jsonl import MAX_LINE_BYTES, read_jsonl_pairs
from dlmkit.errors import UserError


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def test_reads_pairs_in_order_stripped_without_final_newline(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.jsonl",
        '{"src": "  How are you? ", "trg": "\\tFine.\\n"}\n{"trg": "b", "src": "a", "refs": ["x"]}',
    )
    assert read_jsonl_pairs(path) == (["How are you?", "a"], ["Fine.", "b"])


def test_custom_field_names_and_limit(tmp_path: Path) -> None:
    lines = [json.dumps({"q": f"q{i}", "a": f"a{i}"}) for i in range(5)]
    path = write(tmp_path / "a.jsonl", "\n".join(lines) + "\n")
    assert read_jsonl_pairs(path, src_field="q", trg_field="a", limit=2) == (["q0", "q1"], ["a0", "a1"])
    assert read_jsonl_pairs(path, src_field="q", trg_field="a", limit=0) == ([], [])
    assert len(read_jsonl_pairs(path, src_field="q", trg_field="a", limit=99)[0]) == 5


def test_limit_stops_before_a_later_bad_line(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", '{"src": "a", "trg": "b"}\nnot json\n')
    assert read_jsonl_pairs(path, limit=1) == (["a"], ["b"])
    with pytest.raises(UserError, match="line 2"):
        read_jsonl_pairs(path)


def test_gzip_and_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write('\ufeff{"src": "x", "trg": "y"}\r\n{"src": "caf\\u00e9", "trg": "z"}\r\n'.encode())
    assert read_jsonl_pairs(path) == (["x", "café"], ["y", "z"])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"src": "a", "trg": ', "invalid JSON"),
        ('{"src": "a"}', 'missing key "trg"'),
        ('{"source": "a", "trg": "b"}', 'missing key "src"'),
        ('{"src": 3, "trg": "b"}', 'key "src" holds a int; expected a string'),
        ('{"src": "a", "trg": null}', 'key "trg" holds a NoneType'),
        ('["a", "b"]', "got a JSON list"),
        ("", "blank line"),
        ("   ", "blank line"),
        ('{"src": "\\ud800", "trg": "b"}', 'key "src" holds a lone surrogate'),
        ('{"src": ' + "[" * 50_000 + "]" * 50_000 + "}", "JSON nested too deeply"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    path = write(tmp_path / "bad.jsonl", '{"src": "a", "trg": "b"}\n{"src": "c", "trg": "d"}\n' + line + "\n")
    with pytest.raises(UserError) as info:
        read_jsonl_pairs(path)
    message = str(info.value)
    assert f"{path}, line 3" in message
    assert expected in message


def test_invalid_utf8_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"src": "a", "trg": "b"}\n{"src": "\xff", "trg": "b"}\n')
    with pytest.raises(UserError, match=r"bad\.jsonl, line 2: not valid UTF-8"):
        read_jsonl_pairs(path)


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nope\.jsonl: file not found"):
        read_jsonl_pairs(tmp_path / "nope.jsonl")
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"this is not gzip data")
    with pytest.raises(UserError, match=r"broken\.jsonl\.gz: cannot read"):
        read_jsonl_pairs(broken)


pair_text = st.text(st.characters(codec="utf-8"), max_size=20)


@given(pairs=st.lists(st.tuples(pair_text, pair_text), min_size=1, max_size=8), final_newline=st.booleans())
def test_roundtrip_of_json_dumps_lines(
    tmp_path_factory: pytest.TempPathFactory, pairs: list[tuple[str, str]], final_newline: bool
) -> None:
    path = tmp_path_factory.mktemp("rt") / "rt.jsonl"
    body = "\n".join(json.dumps({"src": s, "trg": t}) for s, t in pairs)
    write(path, body + ("\n" if final_newline else ""))
    assert read_jsonl_pairs(path) == ([s.strip() for s, _ in pairs], [t.strip() for _, t in pairs])


def test_a_corrupt_gzip_block_names_the_file(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "bad.jsonl.gz"
    data = bytearray(gzip.compress(b'{"src": "a", "trg": "b"}\n' * 200))
    data[30:40] = b"\xff" * 10  # damage the deflate stream, keep the header
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match=r"bad\.jsonl\.gz: cannot read"):
        read_jsonl_pairs(path)


def test_a_huge_line_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "bomb.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b'{"src": "a", "trg": "b"}\n')
        handle.write(b'{"src": "' + b"a " * MAX_LINE_BYTES + b'", "trg": "b"}\n')
    with pytest.raises(UserError, match=rf"bomb.jsonl.gz, line 2: longer than {MAX_LINE_BYTES:,} bytes"):
        read_jsonl_pairs(path)


def test_a_word_no_sentence_has_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "word.jsonl"
    path.write_text('{"src": "fine words", "trg": "ok"}\n{"src": "x", "trg": "' + "w" * 5000 + '"}\n')
    with pytest.raises(UserError, match=r'word.jsonl, line 2: key "trg" holds a word of 5,000 characters'):
        read_jsonl_pairs(path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda z: z[:-8] + (int.from_bytes(z[-8:-4], "little") ^ 1).to_bytes(4, "little") + z[-4:], "CRC check"),
        (lambda z: z + b"garbage after the last member", "Not a gzipped file"),
        (lambda z: z[:-12], "ended before the end-of-stream marker"),
    ],
)
@pytest.mark.parametrize("limit", [None, 3])
def test_a_damaged_gzip_is_refused_even_when_only_its_first_lines_are_read(
    tmp_path: Path, damage: object, message: str, limit: int | None
) -> None:
    lines = b"".join(b'{"src": "a b %d", "trg": "c d"}\n' % i for i in range(200))
    path = tmp_path / "train.jsonl.gz"
    path.write_bytes(damage(gzip.compress(lines)))  # type: ignore[operator]
    with pytest.raises(UserError, match=rf"train.jsonl.gz: .*{message}"):
        read_jsonl_pairs(path, limit=limit)
    path.write_bytes(gzip.compress(lines) + b"\0" * 16)  # zero padding after the member is allowed, as gzip allows
    assert len(read_jsonl_pairs(path, limit=limit)[0]) == (limit or 200)

"""Reading and writing DiffuSeq output files: the official format, its quirks and bad lines."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlmkit.errors import UserError
from dlmkit.evaluation.output_files import OutputRow, read_output_file, read_output_files, write_output_file

ROWS = [
    OutputRow(recover="[CLS] how can i make friends? [SEP] [PAD]", reference="[CLS] how do i [SEP]", source="[CLS] q"),
    OutputRow(recover='caf\u00e9 \u2028 "quoted"', reference="r", source="s [SEP] [SEP]"),
]


def _official_bytes(rows: list[OutputRow]) -> str:
    """What the official sampler's print(json.dumps({...}), file=fout) produces."""
    return "".join(
        json.dumps({"recover": r.recover, "reference": r.reference, "source": r.source}) + "\n" for r in rows
    )


def test_written_file_matches_the_official_writer(tmp_path: Path) -> None:
    path = write_output_file(tmp_path / "seed123_step2000.json", ROWS)
    assert path.read_text(encoding="utf-8") == _official_bytes(ROWS)
    assert list(json.loads(path.read_text().splitlines()[0])) == ["recover", "reference", "source"]


def test_official_file_without_final_newline_and_with_extra_keys(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    text = _official_bytes(ROWS).rstrip("\n").replace('"source"', '"extra": 1, "source"', 1)
    path.write_text(text, encoding="utf-8")
    assert read_output_file(path) == ROWS


def test_trailing_blank_lines_and_crlf_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(_official_bytes(ROWS).replace("\n", "\r\n").encode() + b"\r\n\n  \n")
    assert read_output_file(path) == ROWS


@given(st.lists(st.builds(OutputRow, st.text(), st.text(), st.text()), max_size=5))
def test_round_trip(rows: list[OutputRow]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write_output_file(Path(folder) / "x.json", rows)
        assert read_output_file(path) == rows


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ('{"recover": "a", "reference": "b"', r"line 2: not valid JSON"),
        ('["a", "b", "c"]', r"line 2: a JSON list, not an object"),
        ('{"recover": "a", "source": "c"}', r"line 2: missing key reference"),
        ('{"recover": "a", "reference": 3, "source": "c"}', r"line 2: key 'reference' holds int"),
        ("", r"line 2: empty line"),
        (
            '{"recover": "' + "w " * 200_000 + '", "reference": "b", "source": "c"}',
            r"line 2: key 'recover' holds 200,000 words",
        ),
        ('{"recover": ' + "[" * 50_000 + "]" * 50_000 + "}", r"line 2: JSON nested too deeply"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, pattern: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(_official_bytes(ROWS[:1]) + line + "\n" + _official_bytes(ROWS[1:]), encoding="utf-8")
    with pytest.raises(UserError, match=pattern) as info:
        read_output_file(path)
    assert str(path) in str(info.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such output file"):
        read_output_file(tmp_path / "missing.json")
    with pytest.raises(UserError, match="is a directory"):
        read_output_file(tmp_path)
    (tmp_path / "latin1.json").write_bytes(b'{"recover": "caf\xe9"}\n')
    with pytest.raises(UserError, match="not UTF-8"):
        read_output_file(tmp_path / "latin1.json")


def test_files_of_different_lengths_are_an_error(tmp_path: Path) -> None:
    long_file = write_output_file(tmp_path / "a.json", ROWS)
    short_file = write_output_file(tmp_path / "b.json", ROWS[:1])
    assert read_output_files([long_file, long_file]) == [ROWS, ROWS]
    with pytest.raises(UserError, match=r"a.json has 2, .*b.json has 1"):
        read_output_files([long_file, short_file])


def _long_rows(path: Path, rows: int, words: int) -> Path:
    text = " ".join(f"w{i % 50}" for i in range(words))
    write_output_file(path, [OutputRow(text, text, "x")] * rows)
    return path


def test_the_total_work_is_capped_not_only_each_row(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dlmkit.cli.main import cli

    one = _long_rows(tmp_path / "seed0.json", 20, 9_999)  # every row under the per-row cap
    result = CliRunner().invoke(cli, ["eval", str(one)])
    assert result.exit_code == 2 and "scoring would compare 2e+09 word pairs (at most 1e+08)" in result.output
    two = [_long_rows(tmp_path / f"s{k}.json", 4, 3_000) for k in range(2)]  # small alone, large across seeds
    assert len(read_output_files([two[0]])[0]) == 4
    result = CliRunner().invoke(cli, ["eval", "--mbr", *map(str, two)])
    assert result.exit_code == 2 and "word pairs" in result.output
    assert read_output_files([_long_rows(tmp_path / "fine.json", 2_500, 128)])  # a whole test split at 128 words


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_fifo_or_device_is_refused_before_it_is_read(tmp_path: Path, special: str) -> None:
    import os

    path = Path(special)
    if special == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        path = tmp_path / "out.json"
        os.mkfifo(path)
    with pytest.raises(UserError, match="not a regular file"):
        read_output_file(path)


def test_a_line_longer_than_any_row_is_not_read_whole(tmp_path: Path) -> None:
    (tmp_path / "zeros.json").write_bytes(b"\0" * (3 << 20))
    with pytest.raises(UserError, match="line 1: longer than 1,048,576 characters"):
        read_output_file(tmp_path / "zeros.json")

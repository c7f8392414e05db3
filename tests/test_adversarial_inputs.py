"""Hostile or careless inputs end in one clean message and exit 2: never a traceback, a hang or a crash."""

from __future__ import annotations

import errno
import gzip
import json
import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dlmkit.cli.main import cli
from dlmkit.data.diffuseq_jsonl import DiffuSeqJsonl, DiffuSeqJsonlParams
from dlmkit.errors import UserError

REPO = Path(__file__).resolve().parents[1]
TINY = str(REPO / "recipes" / "tiny_cpu.toml")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def assert_clean(code: int, out: str, *expected: str) -> None:
    assert code == 2, out
    assert "Traceback" not in out
    for text in expected:
        assert text in out, out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00name = 1", "not UTF-8 text"),
        (b"a = " + b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
        (b"x" * ((1 << 20) + 1), "a recipe is a TOML text file of at most"),
    ],
)
def test_binary_deep_or_huge_recipes_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "r.toml"
    path.write_bytes(content)
    assert_clean(*run("validate", str(path)), message)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_or_device_as_the_recipe_is_refused_without_reading_it(tmp_path: Path) -> None:
    fifo = tmp_path / "r.toml"
    os.mkfifo(fifo)
    assert_clean(*run("validate", str(fifo)), "not a regular file")
    if Path("/dev/zero").exists():
        assert_clean(*run("validate", "/dev/zero"), "not a regular file")


def test_a_deeply_nested_override_is_refused() -> None:
    assert_clean(*run("validate", TINY, "--set", "seed=" + "[" * 50_000 + "]" * 50_000), "nested too deeply")


def test_an_output_folder_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, out = run("run", TINY, "--output-dir", str(blocker / "run"), "--no-progress")
    assert_clean(code, out, str(blocker / "run"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.sampled_from(["seed", "stage.stage1.steps", "runtime.threads", "stage.stage1.optim.psi.lr"]), value=st.text()
)
def test_any_text_as_an_override_value_is_accepted_or_refused_cleanly(key: str, value: str) -> None:
    code, out = run("validate", TINY, "--set", f"{key}={value}")
    assert code in (0, 2), out
    assert "Traceback" not in out


def test_an_empty_stage_list_is_refused(tmp_path: Path) -> None:
    text = Path(TINY).read_text(encoding="utf-8")
    path = tmp_path / "r.toml"
    path.write_text(text[: text.index("[[stage]]")] + "stage = []\n", encoding="utf-8")
    assert_clean(*run("validate", str(path)), "a recipe needs at least one [[stage]]")


@pytest.mark.parametrize(
    "message",
    [
        "[enforce fail at inline_container.cc:626] . unexpected pos 64 vs 0: file write failed",
        'Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No space left on device" })',
    ],
)
def test_a_full_disk_while_a_library_writes_is_a_clear_error_and_the_old_file_stays(
    tmp_path: Path, message: str
) -> None:
    from dlmkit.storage.atomic import write_file_atomic

    target = tmp_path / "teacher.safetensors"
    target.write_bytes(b"previous")

    def full_disk(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise RuntimeError(message)

    with pytest.raises(OSError) as caught:
        write_file_atomic(target, full_disk)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["teacher.safetensors"]  # no temporary left behind


def test_other_writer_errors_are_not_mistaken_for_a_full_disk(tmp_path: Path) -> None:
    from dlmkit.storage.atomic import write_file_atomic

    def broken(tmp: Path) -> None:
        raise RuntimeError("tensor is not contiguous")

    with pytest.raises(RuntimeError, match="not contiguous"):
        write_file_atomic(tmp_path / "x.pt", broken)


def test_a_full_disk_during_a_command_exits_2_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import safetensors.torch

    from dlmkit.storage.teacher_files import save_teacher
    from dlmkit.testing.toy_teacher import ToyTeacherParams, build_toy_teacher

    source = tmp_path / "teacher.safetensors"
    save_teacher(build_toy_teacher(ToyTeacherParams(), vocab_size=20, seq_len=8), source, {})

    def full_disk(*args: object, **kwargs: object) -> None:
        raise RuntimeError('Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No space" })')

    monkeypatch.setattr(safetensors.torch, "save_model", full_disk)
    result = CliRunner().invoke(cli, ["teacher", "export", str(source), str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "no space left on device" in result.output and str(tmp_path / "out") in result.output
    assert "Traceback" not in result.output


@st.composite
def data_line(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["pair", "text", "bytes", "json"]))
    if kind == "pair":
        return json.dumps({"src": draw(st.text(max_size=30)), "trg": draw(st.text(max_size=30))}).encode()
    if kind == "text":
        return draw(st.text(max_size=40)).encode("utf-8", "surrogatepass")
    if kind == "json":
        return json.dumps(draw(st.recursive(st.none() | st.integers() | st.text(max_size=5), st.lists))).encode()
    return draw(st.binary(max_size=40))


@st.composite
def data_files(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A training file as a careless or hostile source might write it: pairs mixed with garbage lines,
    lone surrogates and control characters, optionally gzipped and then damaged at one byte."""
    content = b"\n".join(draw(st.lists(data_line(), min_size=1, max_size=6)))
    gz = draw(st.booleans())
    if gz:
        packed = bytearray(gzip.compress(content))
        if draw(st.booleans()):
            at = draw(st.integers(0, len(packed) - 1))
            packed[at] ^= draw(st.integers(1, 255))
        content = bytes(packed)
    return content, gz


@settings(max_examples=60, deadline=None)
@given(data_files())
def test_any_training_file_gives_pairs_or_an_error_naming_it(case: tuple[bytes, bool]) -> None:
    content, gz = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("train.jsonl.gz" if gz else "train.jsonl")
        path.write_bytes(content)
        data = DiffuSeqJsonl(DiffuSeqJsonlParams(root=folder, train=[path.name], seq_len=16, vocab="bert"))
        try:
            batch = data.split("train")
        except UserError as exc:
            event("refused, naming the file")
            assert str(path) in str(exc)
        else:
            event("read")
            assert len(batch) >= 1 and batch.input_ids.shape[1] == 16


def test_a_damaged_gzip_block_stops_the_run_naming_the_file_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data" / "qqp"
    data.mkdir(parents=True)
    valid = (REPO.parent / "shared" / "data" / "qqp" / "valid.jsonl").read_bytes()
    packed = bytearray(gzip.compress(valid))
    packed[200:260] = bytes(b ^ 0x5A for b in packed[200:260])
    (data / "train.jsonl.gz").write_bytes(bytes(packed))
    for name in ("valid.jsonl", "test.jsonl"):
        (data / name).write_bytes(valid)
    monkeypatch.setenv("DLMKIT_DATA_ROOT", str(tmp_path / "data"))
    code, out = run("run", TINY, "--output-dir", str(tmp_path / "run"), "--no-progress", "--set", "runtime.threads=1")
    assert_clean(code, out, str(data / "train.jsonl.gz"), "cannot read")
    assert not list((tmp_path / "run").rglob("*.safetensors"))


def test_validate_reads_the_splits_so_a_malformed_test_file_is_found_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data" / "qqp"
    data.mkdir(parents=True)
    shared = REPO.parent / "shared" / "data" / "qqp"
    valid = (shared / "valid.jsonl").read_bytes()
    (data / "train.jsonl.gz").write_bytes(gzip.compress(valid))
    (data / "valid.jsonl").write_bytes(valid)
    (data / "test.jsonl").write_bytes(b"".join(valid.splitlines(keepends=True)[:5]) + b'{"src": "cut off\n')
    monkeypatch.setenv("DLMKIT_DATA_ROOT", str(tmp_path / "data"))
    code, out = run("validate", TINY)
    assert_clean(code, out, f"{data / 'test.jsonl'}, line 6: invalid JSON")
    code, out = run("validate", TINY, "--no-files")  # without the files, nothing is read
    assert code == 0, out

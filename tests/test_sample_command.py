"""``dlmkit sample``: DiffuSeq-format lines from a run folder, a checkpoint, with the usual samplers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dlmkit.cli.main import cli
from dlmkit.errors import UserError
from dlmkit.inference.sampler_choice import choose_sampler
from dlmkit.inference.sources import open_source
from dlmkit.storage.run_layout import RunFolder
from tests.tiny_run import ONE_THREAD, make_tiny_run

TEST_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "qqp" / "test.jsonl"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_run(tmp_path_factory.mktemp("sample"))


def sample(*args: str) -> Result:
    return CliRunner().invoke(cli, ["sample", *args, *ONE_THREAD])


def lines(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def squeeze(text: str) -> str:
    """Text without special tokens or spaces, cut at the first [UNK]: comparable to the raw jsonl."""
    text = text.split("[UNK]")[0].replace("[CLS]", "").replace("[SEP]", "")
    return "".join(text.split())


def test_writes_one_line_per_sequence_with_the_keys_in_diffuseq_order(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "student.json"
    result = sample(str(run), "--limit", "5", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == str(out)
    rows = lines(out)
    assert len(rows) == 5
    assert all(list(row) == ["recover", "reference", "source"] for row in rows)
    assert "one_step" in result.stderr  # the student's usual sampler, reported on stderr


def test_source_and_reference_are_the_decoded_packed_example(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "teacher.json"
    result = sample(str(run), "--model", "teacher", "--steps", "3", "--limit", "6", "--out", str(out))
    assert result.exit_code == 0, result.output
    raw = [json.loads(line) for line in TEST_FILE.read_text(encoding="utf-8").splitlines()[:6]]
    for row, pair in zip(lines(out), raw, strict=True):
        # spec 4.1: source is [CLS] x [SEP] [SEP] and reference the truncated target, decoded from ids
        assert row["source"].startswith("[CLS] ") and row["source"].endswith("[SEP] [SEP]")
        assert row["reference"].startswith("[CLS] ") and row["reference"].endswith("[SEP]")
        source, reference = squeeze(row["source"]), squeeze(row["reference"])
        assert source and "".join(pair["src"].lower().split()).startswith(source)
        assert reference and "".join(pair["trg"].lower().split()).startswith(reference)


def test_the_same_seed_gives_the_same_file_and_another_seed_does_not(run: Path, tmp_path: Path) -> None:
    files = {}
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        files[name] = tmp_path / f"{name}.json"
        args = ["--model", "teacher", "--sampler", "ancestral", "--steps", "4", "--limit", "4", "--seed", seed]
        result = sample(str(run), *args, "--batch-size", "3", "--out", str(files[name]))
        assert result.exit_code == 0, result.output
    assert files["a"].read_bytes() == files["b"].read_bytes()
    assert files["a"].read_bytes() != files["c"].read_bytes()


def test_default_output_is_a_folder_per_setting_inside_the_run(run: Path) -> None:
    result = sample(str(run), "--limit", "2", "--seed", "5")
    assert result.exit_code == 0, result.output
    expected = run / "samples" / "student_one_step_step1" / "seed5.json"
    assert len(lines(expected)) == 2


def test_a_checkpoint_takes_its_data_from_a_recipe_or_run(run: Path, tmp_path: Path) -> None:
    teacher = run / "teacher" / "teacher.safetensors"
    refused = sample(str(teacher), "--limit", "2")
    assert refused.exit_code == 2 and "--recipe" in refused.output
    common = ["--sampler", "ddim", "--steps", "3", "--limit", "3", "--seed", "1"]
    alone = sample(str(teacher), "--recipe", str(run), *common, "--out", str(tmp_path / "a.json"))
    inside = sample(str(run), "--model", "teacher", *common, "--out", str(tmp_path / "b.json"))
    assert alone.exit_code == 0 and inside.exit_code == 0, alone.output + inside.output
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_a_folder_that_is_not_a_run_is_a_user_error(tmp_path: Path) -> None:
    result = sample(str(tmp_path))
    assert result.exit_code == 2
    assert "not a run folder" in result.output and "resolved.toml" in result.output


def test_an_unknown_sampler_suggests_the_closest_name(run: Path) -> None:
    result = sample(str(run), "--sampler", "ancestrl", "--limit", "1")
    assert result.exit_code == 2
    assert "did you mean 'ancestral'" in result.output


def test_steps_for_a_sampler_without_steps_is_refused(run: Path) -> None:
    result = sample(str(run), "--sampler", "one_step", "--steps", "3", "--limit", "1")
    assert result.exit_code == 2 and "no 'steps' parameter" in result.output


def test_usual_samplers(run: Path) -> None:
    opened = open_source(run, ["runtime.threads=1"])
    like, total = opened.student_sampler, opened.schedule.num_timesteps
    student = choose_sampler("student", None, None, like, total)
    assert student.name == "one_step" and student.params.t_init == like.params.t_init  # type: ignore[attr-defined]
    multi = choose_sampler("student", None, 4, like, total)
    assert multi.name == "student_multistep" and multi.nfe() == 4  # type: ignore[attr-defined]
    assert multi.params.t_init == like.params.t_init  # type: ignore[attr-defined]
    teacher = choose_sampler("teacher", None, None, like, total)
    assert teacher.name == "ancestral" and teacher.nfe() == total == 2000  # type: ignore[attr-defined]
    named = choose_sampler("teacher", "ancestral", None, like, total)  # named, without --steps: all T steps
    assert named.nfe() == 2000


def test_a_named_sampler_takes_the_recipes_t_init_for_the_teacher_too(run: Path) -> None:
    opened = open_source(run, ["runtime.threads=1", "sampler.t_init=1234"])
    like, total = opened.student_sampler, opened.schedule.num_timesteps
    for role in ("teacher", "student"):
        one_step = choose_sampler(role, "one_step", None, like, total)
        assert one_step.params.t_init == 1234  # type: ignore[attr-defined]


def test_run_files_are_found_inside_a_moved_run_folder(tmp_path: Path) -> None:
    target = tmp_path / "moved" / "stage2" / "best" / "student.safetensors"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"")
    assert RunFolder(tmp_path / "moved").stored_path("old/place/run/stage2/best/student.safetensors") == target
    assert RunFolder(tmp_path / "moved").stored_path("/abs/run/stage2/best/student.safetensors") == target
    with pytest.raises(UserError, match="not in"):
        RunFolder(tmp_path / "moved").stored_path("run/stage1/best/student.safetensors")

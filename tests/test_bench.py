"""``dlmkit bench``: every point measured on the same subset, speed-ups over the ancestral chain, three files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner, Result
from matplotlib.image import imread

from dlmkit.cli.main import cli
from dlmkit.evaluation.bench import run_bench
from dlmkit.evaluation.bench_config import BenchConfig
from dlmkit.evaluation.bench_plan import BenchModels
from dlmkit.evaluation.output_files import read_output_file
from dlmkit.inference.sources import open_source
from dlmkit.plugins import build
from tests.tiny_run import ONE_THREAD, make_tiny_run

LADDER = [
    "--teacher-steps", "1,2,4",
    "--samplers", "ddim,ancestral",
    "--student-steps", "1,2",
    "--limit", "8",
    "--batch-size", "4",
    "--reference-limit", "2",
    "--metrics", "bleu,rouge_l",
    "--seed", "3",
]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_run(tmp_path_factory.mktemp("bench"))


@pytest.fixture(scope="module")
def bench(run: Path) -> Path:
    out = run.parent / "bench"
    result = invoke("bench", str(run), *LADDER, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, [*args, *ONE_THREAD])


def summary(bench: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((bench / "bench.json").read_text(encoding="utf-8"))
    return data


def test_writes_json_markdown_and_a_png(bench: Path) -> None:
    assert (bench / "bench.json").is_file() and (bench / "bench.md").is_file()
    png = (bench / "bench.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    height, width = imread(bench / "bench.png").shape[:2]
    assert height > 100 and width > 100


def test_one_entry_per_point_with_nfe_time_speedup_and_metrics(bench: Path) -> None:
    data = summary(bench)
    points = {(p["model"], p["sampler"], p["steps"]): p for p in data["points"]}
    expected = {("teacher", "ddim", s) for s in (1, 2, 4)} | {("teacher", "ancestral", s) for s in (2, 4)}
    expected |= {("student", "one_step", 1), ("student", "student_multistep", 2), ("teacher", "one_step", 1)}
    assert set(points) == expected and len(data["points"]) == len(expected)
    # ancestral needs at least 2 steps: the 1-step point is skipped and says why
    assert [(s["sampler"], s["steps"]) for s in data["skipped"]] == [("ancestral", 1)]
    ref = data["reference"]
    assert (ref["sampler"], ref["steps"], ref["nfe"], ref["sequences"], ref["in_ladder"]) == (
        "ancestral", 2000, 2000, 2, False
    )  # fmt: skip
    assert "first 2 of the 8" in ref["how"]
    for point in data["points"]:
        assert point["nfe"] == point["steps"] and point["sequences"] == 8
        assert point["seconds"] > 0
        assert point["seconds_per_seq"] == pytest.approx(point["seconds"] / 8)
        assert point["seqs_per_s"] == pytest.approx(8 / point["seconds"])
        assert point["speedup"] == pytest.approx(ref["seconds_per_seq"] / point["seconds_per_seq"])
        assert set(point["metrics"]) == {"bleu", "rouge_l"}
        assert all(0.0 <= v <= 1.0 for v in point["metrics"].values())
    # 2000 network calls per sequence against at most 4: the ladder is faster than the reference
    assert all(p["speedup"] > 1.0 for p in data["points"])
    assert data["config"]["sequences"] == 8 and data["environment"]["device"] == "cpu"


def test_copy_source_baseline_scores_the_source_as_the_output(bench: Path) -> None:
    data = summary(bench)
    rows = read_output_file(bench / "outputs" / "teacher_ddim_step2.json")
    bleu = build("metric", "bleu")
    expected = bleu.compute([r.source for r in rows], [r.reference for r in rows], [r.source for r in rows])
    assert data["baseline"]["name"] == "copy_source"
    assert data["baseline"]["metrics"]["bleu"] == pytest.approx(expected)
    # the metric is not fooled: outputs copied from the source differ from the model's
    assert data["baseline"]["metrics"]["bleu"] != pytest.approx(data["points"][0]["metrics"]["bleu"])


def test_points_are_what_dlmkit_sample_generates(run: Path, bench: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddim.json"
    args = ["--model", "teacher", "--sampler", "ddim", "--steps", "4", "--limit", "8", "--batch-size", "4"]
    result = invoke("sample", str(run), *args, "--seed", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (bench / "outputs" / "teacher_ddim_step4.json").read_bytes()


def test_markdown_has_a_row_per_point_the_reference_and_the_baseline(bench: Path) -> None:
    text = (bench / "bench.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0].split(" | ")[:4] == ["| model", "sampler", "steps", "NFE"]
    body = rows[1:]
    assert len(body) == 8 + 1 + 1  # points (the control among them), reference timed apart, copy source
    assert body[-1].startswith("| copy source |")
    assert any(line.startswith("| teacher (first 2) | ancestral | 2000 | 2000 |") for line in body)
    # each student point is placed against every teacher curve, in the table's page and in bench.json
    placed = summary(bench)["student_vs_teacher"]
    assert [(e["sampler"], e["steps"]) for e in placed] == [("one_step", 1), ("student_multistep", 2)]
    assert all({c["sampler"] for c in e["curves"]} == {"ddim", "ancestral"} for e in placed)
    assert text.count("\n- student ") == 2 and "Student against the teacher's curves" in text


def test_full_chain_in_the_ladder_is_its_own_reference(run: Path) -> None:
    opened = open_source(run, ["runtime.threads=1"])
    teacher = opened.load_model("teacher", torch.device("cpu"))
    models = BenchModels(teacher, None, opened.student_sampler, opened.schedule, opened.dataset, torch.device("cpu"))
    config = BenchConfig(
        teacher_steps=(2000,), samplers=("ancestral",), student_steps=(), limit=2, batch_size=2, metrics=("dist1",)
    )
    data = run_bench(models, config).summary
    (point,) = data["points"]
    assert data["reference"]["in_ladder"] is True
    assert data["reference"]["seconds_per_seq"] == point["seconds_per_seq"]
    assert point["speedup"] == pytest.approx(1.0)


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    result = invoke("bench", str(tmp_path), "--out", str(tmp_path / "b"))
    assert result.exit_code == 2 and "not a run folder" in result.output
    assert not (tmp_path / "b").exists()


def test_an_unknown_sampler_suggests_the_closest_name(run: Path, tmp_path: Path) -> None:
    result = invoke("bench", str(run), "--samplers", "ddim,ancestrl", "--out", str(tmp_path / "b"))
    assert result.exit_code == 2
    assert "did you mean 'ancestral'" in result.output
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--teacher-steps", "2,x"], "not a whole number"),
        (["--metrics", "self_bleu"], "several samples per source"),
        (["--metrics", "bleuu"], "did you mean"),
    ],
)
def test_bad_options_are_user_errors(run: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke("bench", str(run), *args, "--out", str(tmp_path / "b"))
    assert result.exit_code == 2 and message in result.output


def test_a_checkpoint_is_refused(run: Path) -> None:
    result = invoke("bench", str(run / "teacher" / "teacher.safetensors"))
    assert result.exit_code == 2 and "not a checkpoint" in result.output


@pytest.fixture(scope="module")
def seeded(run: Path) -> Path:
    out = run.parent / "bench_seeds"
    args = ["--teacher-steps", "4", "--samplers", "ancestral", "--student-steps", "1", "--limit", "6"]
    args += ["--batch-size", "3", "--reference-limit", "2", "--metrics", "bleu,dist1", "--seed", "3", "--seed", "4"]
    result = invoke("bench", str(run), *args, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_several_seeds_report_the_mean_and_spread_of_their_own_runs(seeded: Path) -> None:
    data = summary(seeded)
    assert data["config"]["seeds"] == [3, 4]
    for point in data["points"]:
        per_seed = point["per_seed"]
        assert [r["seed"] for r in per_seed] == [3, 4] and point["seeds"] == [3, 4]
        for name in ("bleu", "dist1"):
            a, b = (r["metrics"][name] for r in per_seed)
            assert point["metrics"][name] == pytest.approx((a + b) / 2)
            assert point["metrics_sd"][name] == pytest.approx(abs(a - b) / 2**0.5)
        # time is over every sequence generated: 6 sources x 2 seeds
        assert point["seconds"] == pytest.approx(sum(r["seconds"] for r in per_seed))
        assert point["seconds_per_seq"] == pytest.approx(point["seconds"] / 12)
        assert point["outputs"] == [
            f"outputs/{point['model']}_{point['sampler']}_step{point['steps']}_seed{s}.json" for s in (3, 4)
        ]
    assert "with seed 3 only" in data["reference"]["how"] and data["reference"]["seeds"] == [3]
    text = (seeded / "bench.md").read_text(encoding="utf-8")
    assert "seeds 3, 4" in text and " ± " in text


def test_each_seed_is_what_dlmkit_sample_makes_with_it(run: Path, seeded: Path, tmp_path: Path) -> None:
    stem = seeded / "outputs" / "teacher_ancestral_step4"
    files = {seed: Path(f"{stem}_seed{seed}.json").read_bytes() for seed in (3, 4)}
    assert files[3] != files[4]  # the seeds drew different noise
    for seed, expected in files.items():
        out = tmp_path / f"s{seed}.json"
        args = ["--model", "teacher", "--sampler", "ancestral", "--steps", "4", "--limit", "6", "--batch-size", "3"]
        result = invoke("sample", str(run), *args, "--seed", str(seed), "--out", str(out))
        assert result.exit_code == 0, result.output
        assert out.read_bytes() == expected


def test_the_control_is_the_teacher_sampled_as_the_student_is(run: Path, bench: Path, tmp_path: Path) -> None:
    """The student before distillation: the teacher's one-step prediction at the recipe's t_init."""
    out = tmp_path / "control.json"
    args = ["--model", "teacher", "--sampler", "one_step", "--limit", "8", "--batch-size", "4", "--seed", "3"]
    result = invoke("sample", str(run), *args, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (bench / "outputs" / "teacher_one_step_step1.json").read_bytes()
    placed = summary(bench)["student_vs_teacher"][0]
    control = next(p for p in summary(bench)["points"] if (p["model"], p["sampler"]) == ("teacher", "one_step"))
    assert placed["control"]["score"] == control["metrics"]["bleu"]
    assert placed["control"]["gain"] == pytest.approx(placed["score"] - control["metrics"]["bleu"])
    assert "one_step" not in {c["sampler"] for c in placed["curves"]}


def test_no_control_leaves_it_out(run: Path, tmp_path: Path) -> None:
    args = ["--teacher-steps", "2", "--samplers", "ddim", "--student-steps", "1", "--limit", "2", "--batch-size", "2"]
    result = invoke("bench", str(run), *args, "--reference-limit", "1", "--no-control", "--out", str(tmp_path / "b"))
    assert result.exit_code == 0, result.output
    assert [(p["model"], p["sampler"]) for p in summary(tmp_path / "b")["points"]] == [
        ("teacher", "ddim"),
        ("student", "one_step"),
    ]

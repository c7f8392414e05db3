"""End to end: the tiny CPU recipe through the CLI, and resuming a killed run to the same weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from dlmkit.cli.main import cli
from dlmkit.engine.final_eval import attrs_row
from dlmkit.engine.pipeline import run_recipe
from dlmkit.evaluation.output_files import read_output_file
from dlmkit.inference.generation import score
from dlmkit.metrics.bleu import BleuMetric
from dlmkit.recipe.load import load_recipe
from tests.kill_resume import run_killed

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "recipes" / "tiny_cpu.toml"
BLEU = {"bleu": BleuMetric()}

SHORT = [
    "stage.teacher.steps=8",
    "stage.teacher.ckpt_every=4",
    "stage.teacher.eval_every=0",
    "stage.stage1.steps=6",
    "stage.stage1.ckpt_every=2",
    "stage.stage1.eval_every=3",
    "stage.stage1.log_every=1",
    "stage.stage2.steps=4",
    "stage.stage2.ckpt_every=2",
    "stage.stage2.eval_every=2",
    "eval.num_samples=8",
    "eval.teacher_steps=20",
    "runtime.threads=1",
]


def test_tiny_recipe_runs_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli,
        ["run", str(TINY), "--output-dir", str(out), "--no-progress", *[arg for s in SHORT for arg in ("--set", s)]],
    )
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {"student", "teacher", "objective"}
    assert results["objective"] == "sid_gan"
    assert results["student"]["nfe"] == 1 and results["teacher"]["nfe"] == 20
    assert 0.0 <= results["student"]["bleu"] <= 1.0
    assert {"self_bleu", "div4", "rouge_l", "dist1", "avg_len", "seconds_per_seq"} <= set(results["student"])
    assert len((out / "outputs" / "student_seed1.jsonl").read_text().splitlines()) == 8
    assert results["student"]["speedup"] > 1.0
    student, teacher = results["student"], results["teacher"]
    drawn = [
        score([attrs_row(r) for r in read_output_file(out / "outputs" / f"student_seed{k}.jsonl")], BLEU)["bleu"]
        for k in (0, 1)
    ]
    assert student["bleu_per_seed"] == pytest.approx(drawn) and student["bleu"] == pytest.approx(drawn[0])
    assert student["bleu_mean"] == pytest.approx(sum(drawn) / 2)
    assert student["bleu_mean_vs_teacher"] == pytest.approx(student["bleu_mean"] / teacher["bleu_mean"])
    state = json.loads((out / "run_state.json").read_text())
    assert [state["stages"][s]["summary"]["complete"] for s in ("teacher", "stage1", "stage2")] == [True, True, True]
    assert (out / "resolved.toml").is_file() and (out / "outputs" / "student_seed0.jsonl").is_file()
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    stage1 = [r for r in lines if r["stage"] == "stage1" and "g_loss" in r]
    assert len(stage1) == 6 and all(key in stage1[0] for key in ("psi_loss", "steps_per_s", "skipped_steps"))
    assert any("val_bleu" in r and "empty_share" in r and "repeat_share" in r for r in lines)


def test_existing_run_folder_needs_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    (out).mkdir()
    (out / "run_state.json").write_text(json.dumps({"stages": {"teacher": {"summary": {"complete": True}}}}))
    result = CliRunner().invoke(cli, ["run", str(TINY), "--output-dir", str(out)])
    assert result.exit_code == 2
    assert "pass --resume" in result.output


def _final_weights(run: Path) -> dict[str, torch.Tensor]:
    latest = (run / "stage2" / "ckpt" / "latest").read_text().strip()
    folder = run / "stage2" / "ckpt" / latest
    return {
        f"{name}.{k}": v
        for name in ("student", "psi", "ema")
        for k, v in load_file(folder / f"{name}.safetensors").items()
    }


@pytest.mark.parametrize(
    ("stage", "step", "key", "expected"),
    [("stage1", 5, "g_loss", [1, 2, 3, 4, 5, 5, 6]), ("teacher", 6, "loss", [1, 2, 3, 4, 5, 6, 5, 6, 7, 8])],
)
def test_resume_after_a_kill_ends_with_the_same_weights(
    tmp_path: Path, stage: str, step: int, key: str, expected: list[int]
) -> None:
    # an annealed rate is a function of the step, so the resumed run must follow the same curve
    recipe = load_recipe(TINY, [*SHORT, "stage.teacher.log_every=1", "stage.stage1.optim.generator.lr_final=1e-6"])
    run_recipe(recipe, output_dir=tmp_path / "straight", progress=False)
    run_killed(recipe, tmp_path / "killed", stage, step, key)
    state_file = tmp_path / "killed" / "run_state.json"
    assert not state_file.exists() or stage not in json.loads(state_file.read_text())["stages"]  # killed mid-stage
    run_recipe(recipe, output_dir=tmp_path / "killed", resume=True, progress=False)
    logged = [json.loads(line) for line in (tmp_path / "killed" / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in logged if r["stage"] == stage and key in r]
    assert steps == expected  # continued from the step-4 checkpoint, not from scratch
    straight, resumed = _final_weights(tmp_path / "straight"), _final_weights(tmp_path / "killed")
    assert straight.keys() == resumed.keys()
    for name in straight:
        assert torch.equal(straight[name], resumed[name]), name


def test_missing_teacher_checkpoint_says_how_to_get_one(tmp_path: Path) -> None:
    recipe = REPO / "recipes" / "dlm_one_qqp.toml"
    result = CliRunner().invoke(cli, ["run", str(recipe), "--output-dir", str(tmp_path / "r"), "--device", "cpu"])
    assert result.exit_code == 2
    assert "[teacher]: 'checkpoint': no such file" in result.output and "dlmkit teacher import" in result.output
    assert "Traceback" not in result.output


def test_fp16_is_refused_with_the_reason(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["run", str(TINY), "--output-dir", str(tmp_path / "r"), "--set", 'runtime.precision="fp16"']
    )
    assert result.exit_code == 2
    assert "fp16" in result.output and "diverge" in result.output and "bf16" in result.output


def test_teacher_training_can_start_from_an_earlier_teacher_file(tmp_path: Path) -> None:
    first = run_recipe(
        load_recipe(TINY, [*SHORT, "stage.teacher.ema_decay=0.0"]), output_dir=tmp_path / "a", progress=False
    )
    teacher_file = tmp_path / "a" / first["stages"]["teacher"]["artifacts"]["teacher"]
    recipe = load_recipe(TINY, [*SHORT, f'stage.teacher.init_from="{teacher_file}"', "stage.teacher.steps=1"])
    second = run_recipe(recipe, output_dir=tmp_path / "b", progress=False)
    logged = [json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    first_loss = next(r["loss"] for r in logged if r["stage"] == "teacher" and "loss" in r)
    fresh = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert first_loss < next(r["loss"] for r in fresh if r["stage"] == "teacher" and "loss" in r)
    assert second["stages"]["teacher"]["summary"]["complete"]


def test_teacher_export_from_a_run_folder_and_from_a_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlmkit.storage.checkpoint import read_metadata
    from dlmkit.storage.teacher_files import load_teacher

    run_recipe(load_recipe(TINY, SHORT), output_dir=tmp_path / "run", progress=False)
    monkeypatch.chdir(tmp_path)  # stage outputs are found from the run folder, wherever the command runs
    for source, dest in (
        (tmp_path / "run", "from_run"),
        (tmp_path / "run" / "teacher" / "ckpt" / "step_0000008", "from_ckpt"),
    ):
        result = CliRunner().invoke(cli, ["teacher", "export", str(source), str(tmp_path / dest), "--dtype", "fp16"])
        assert result.exit_code == 0, result.output
        assert (tmp_path / dest / "vocab.txt").is_file()
    a = load_teacher(tmp_path / "from_run" / "teacher.safetensors").state_dict()
    b = load_teacher(tmp_path / "from_ckpt" / "teacher.safetensors").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # the run's teacher is the EMA of its last checkpoint
    for dest in ("from_run", "from_ckpt"):  # provenance without this machine's paths: the file ships
        meta = read_metadata(tmp_path / dest / "teacher.safetensors")
        assert (meta["stage"], meta["step"]) == ("teacher", "8")
        assert str(tmp_path) not in "".join(meta.values())
    assert "val_loss" in read_metadata(tmp_path / "from_run" / "teacher.safetensors")

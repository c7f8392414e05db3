"""The prepared device check: the paper recipe's real code paths at paper size, timed on one device.

    python benchmarks/device_check.py [--out DIR] [--teacher-steps 20] [--distill-steps 20]
                                      [--sequences 256] [--small]

It reads ``recipes/dlm_one_qqp.toml`` itself and keeps its objective tables, optimisers, batch size,
schedule and precision; only the data (synthetic pairs of the same length and vocabulary) and the
teacher (a freshly initialised 91M DiffuSeq, trained for ``--teacher-steps`` first) are swapped, and
the step counts cut.  It then runs every registered sampler on a few sequences, and the teacher's
2000-step ancestral sampler against the one-step student on ``--sequences`` sequences.  It writes
``device_check.json`` and ``device_check.md`` (steps/s, samples/s and peak memory per stage,
seconds per sequence per sampler, the speed-up) and exits 1 naming the failing part on any error.

Without CUDA it refuses unless ``--small`` (tiny sizes on the CPU: the same paths, checked in CI in
seconds).  Sized to finish within 8 minutes on one H100/H200.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import torch

from dlmkit.hookspecs import hookimpl

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipes" / "dlm_one_qqp.toml"
PAPER = {"vocab_size": 30522, "seq_len": 128, "teacher": {"name": "diffuseq"}, "precision": "bf16"}
SMALL = {
    "vocab_size": 512,
    "seq_len": 32,
    "teacher": {"name": "diffuseq", "hidden_size": 48, "num_layers": 1, "num_heads": 2, "intermediate_size": 96},
    "precision": "fp32",
}


def check_recipe(sizes: dict[str, Any], device: str, teacher_steps: int, distill_steps: int, batch: int | None) -> str:
    """``dlm_one_qqp.toml`` with synthetic data, a fresh teacher trained first, and short stages."""
    from dlmkit.recipe.load import read_toml
    from dlmkit.recipe.toml_writer import dumps

    raw = read_toml(RECIPE)
    raw["name"] = "device_check"
    raw["data"] = {"name": "synthetic", "vocab_size": sizes["vocab_size"], "seq_len": sizes["seq_len"]}
    raw["teacher"] = {**sizes["teacher"], "seq_len": sizes["seq_len"]}
    raw["runtime"] = {"device": device, "precision": sizes["precision"], "progress": "off"}
    raw.pop("eval", None)
    teacher_batch = 64 if batch is None else batch
    stages = [
        {"name": "teacher", "kind": "train_teacher", "steps": teacher_steps, "batch_size": teacher_batch}
        | {"log_every": teacher_steps, "ema_decay": 0.999, "timestep_sampler": "lossaware"}
    ]
    for stage in raw["stage"]:
        stage = {**stage, "steps": distill_steps, "eval_every": 0, "ckpt_every": 0, "log_every": distill_steps}
        stage["eval_samples"] = min(stage.get("eval_samples", 8), 8)
        if batch is not None:
            stage["batch_size"] = batch
        stages.append(stage)
    raw["stage"] = stages
    return dumps(raw)


class StageTimer:
    """An observer plugin (registered for the run like any plugin): wall time and peak memory per stage."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.started: dict[str, float] = {}
        self.stages: dict[str, dict[str, float]] = {}

    @hookimpl
    def on_stage_start(self, stage: str, kind: str, run_dir: Path, config: dict[str, Any]) -> None:
        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        self.started[stage] = time.perf_counter()

    @hookimpl
    def on_stage_end(self, stage: str, kind: str, run_dir: Path, summary: dict[str, Any]) -> None:
        if self.device == "cuda":
            torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**30 if self.device == "cuda" else float("nan")
        self.stages[stage] = {"seconds": time.perf_counter() - self.started[stage], "peak_memory_gib": peak}


def time_samplers(run: Path, sequences: int, device: torch.device) -> dict[str, Any]:
    """Seconds per sequence of every registered sampler on a few sequences, and 2000 steps vs one on many."""
    from dlmkit.inference.generation import generate
    from dlmkit.inference.sampler_choice import make_sampler
    from dlmkit.inference.sources import open_source
    from dlmkit.plugins import get_registry, make_params

    opened = open_source(run)
    teacher = opened.load_model("teacher", device)
    student = opened.load_model("student", device)
    t_init = opened.recipe.t_init
    data = opened.dataset.split("test")
    few = data.slice(0, 4)

    def seconds_per_sequence(model: Any, sampler: Any, batch: Any) -> float:
        generate(model, sampler, opened.schedule, opened.dataset, batch.slice(0, 2), 2, 0, device)  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
        out = generate(model, sampler, opened.schedule, opened.dataset, batch, len(batch), 0, device)
        return out.seconds / max(1, len(out.rows))

    rows: dict[str, Any] = {}
    for name in get_registry().names("sampler"):
        # a few steps each; ancestral keeps its full chain
        steps = {"ancestral": None, "student_multistep": 2}.get(name, 10)
        sampler = make_sampler(name, steps if hasattr(make_params("sampler", name), "steps") else None, t_init)
        model = student if name in ("one_step", "student_multistep") else teacher
        rows[name] = {
            "model": "student" if model is student else "teacher",
            "nfe": sampler.nfe(opened.schedule.num_timesteps),
            "seconds_per_seq": seconds_per_sequence(model, sampler, few),
        }
    many = data.slice(0, sequences)
    slow = seconds_per_sequence(teacher, make_sampler("ancestral"), many)
    fast = seconds_per_sequence(student, make_sampler("one_step", t_init=t_init), many)
    return {
        "samplers": rows,
        "versus": {
            "sequences": len(many),
            "teacher_ancestral_2000_seconds_per_seq": slow,
            "student_one_step_seconds_per_seq": fast,
            "speedup": slow / fast,
        },
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Device check: {report['device']} ({report['date']}, torch {report['torch']})",
        "",
        f"{report['teacher_parameters'] / 1e6:.1f}M-parameter DiffuSeq, length {report['seq_len']}, "
        f"vocabulary {report['vocab_size']}, {report['precision']}; recipe: `recipes/dlm_one_qqp.toml` "
        "(synthetic data, fresh teacher, short stages).",
        "",
        "| stage | kind | batch | steps/s | samples/s | peak memory (GiB) | wall (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in report["stages"].items():
        lines.append(
            f"| {name} | {row['kind']} | {row['batch_size']} | {row['steps_per_s']:.3g} | {row['samples_per_s']:.3g} "
            f"| {row['peak_memory_gib']:.2f} | {row['seconds']:.1f} |"
        )
    lines += ["", "| sampler | model | NFE | seconds per sequence |", "|---|---|---|---|"]
    for name, row in report["sampling"]["samplers"].items():
        lines.append(f"| {name} | {row['model']} | {row['nfe']} | {row['seconds_per_seq']:.4g} |")
    versus = report["sampling"]["versus"]
    lines += [
        "",
        f"{versus['sequences']} sequences: the teacher's 2000-step ancestral sampler takes "
        f"{versus['teacher_ancestral_2000_seconds_per_seq']:.4g} s per sequence, the one-step student "
        f"{versus['student_one_step_seconds_per_seq']:.4g} s: **{versus['speedup']:.0f}x**.",
        "",
    ]
    return "\n".join(lines)


def run_check(args: argparse.Namespace) -> dict[str, Any]:
    from dlmkit.engine.pipeline import run_recipe
    from dlmkit.recipe.load import load_recipe
    from dlmkit.testing import temporary_plugin

    device = "cuda" if torch.cuda.is_available() else "cpu"
    sizes = SMALL if args.small else PAPER
    out: Path = args.out
    recipe_path = out / "device_check.toml"
    recipe_path.write_text(
        check_recipe(sizes, device, args.teacher_steps, args.distill_steps, 4 if args.small else None), encoding="utf-8"
    )
    recipe = load_recipe(recipe_path)
    timer = StageTimer(device)
    run = out / "run"
    with temporary_plugin(timer, "device_check_timer"):
        run_recipe(recipe, output_dir=run, progress=False)
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    stages: dict[str, Any] = {}
    for spec in recipe.stages:
        rate = next(r["steps_per_s"] for r in reversed(logged) if r["stage"] == spec.name and "steps_per_s" in r)
        batch = spec.params.batch_size
        stages[spec.name] = {"kind": spec.kind, "batch_size": batch, "steps_per_s": rate, "samples_per_s": rate * batch}
        stages[spec.name].update(timer.stages[spec.name])
    sampling = time_samplers(run, min(args.sequences, 8) if args.small else args.sequences, torch.device(device))
    from dlmkit.storage.teacher_files import load_teacher

    teacher = load_teacher(run / "teacher" / "teacher.safetensors")
    return {
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "date": time.strftime("%Y-%m-%d"),
        "torch": torch.__version__,
        "teacher_parameters": sum(p.numel() for p in teacher.parameters()),
        "seq_len": sizes["seq_len"],
        "vocab_size": sizes["vocab_size"],
        "precision": recipe.runtime.precision,
        "stages": stages,
        "sampling": sampling,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--teacher-steps", type=int, default=20)
    parser.add_argument("--distill-steps", type=int, default=20)
    parser.add_argument("--sequences", type=int, default=256)
    parser.add_argument("--small", action="store_true", help="tiny sizes on the CPU: checks the code paths")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available() and not args.small:
        print("device check: no CUDA device here; run it on the device, or with --small to check the paths")
        return 2
    if args.small:
        args.teacher_steps, args.distill_steps = min(args.teacher_steps, 3), min(args.distill_steps, 2)
    args.out = args.out or Path(tempfile.mkdtemp(prefix="device_check_"))
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        report = run_check(args)
        if torch.cuda.is_available():
            torch.cuda.synchronize()  # an asynchronous device error surfaces here, not later
    except Exception as exc:
        (args.out / "device_check_error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        print(f"device check FAILED: {type(exc).__name__}: {exc} (traceback in {args.out})", file=sys.stderr)
        return 1
    report["wall_seconds"] = time.perf_counter() - started
    (args.out / "device_check.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "device_check.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    print(f"wrote {args.out / 'device_check.json'} and device_check.md in {report['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

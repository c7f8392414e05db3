"""GPU smoke benchmark: a paper-size DiffuSeq (random weights, sequence length 128, vocabulary 30522),
a few dozen SiD+GAN steps at batch 128, then 256 sequences from the teacher's 2000-step ancestral
sampler and from the one-step student, timed side by side on the same card.

    python benchmarks/gpu_smoke.py [--steps 36] [--batch-size 128] [--sequences 256] [--out DIR]

Skips (exit 0) with a reason when there is no CUDA device.  ``--small`` shrinks everything so the
code path can be checked on a CPU in seconds.  Meant to finish within 8 minutes on one H100.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

RECIPE = """
schema_version = 1
name = "gpu_smoke"
seed = 0

[data]
name = "synthetic"
vocab_size = {vocab}
seq_len = {seq_len}
num_pairs = 4096

[teacher]
name = "diffuseq"
embed_dim = 128
seq_len = {seq_len}
hidden_size = {hidden}
num_layers = {layers}
num_heads = 12
intermediate_size = {ffn}

[runtime]
device = "{device}"
precision = "bf16"

[[stage]]
name = "init"
kind = "train_teacher"
steps = 1
batch_size = 8
ema_decay = 0.0

[[stage]]
name = "sid_gan"
kind = "distill"
steps = {steps}
batch_size = {batch}
eval_every = 0
eval_samples = 8
log_every = {steps}
[stage.objective]
name = "sid_gan"
[stage.optim.psi]
lr = 3e-5
betas = [0.0, 0.999]
[stage.optim.generator]
lr = 1e-5
betas = [0.0, 0.999]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=36)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--sequences", type=int, default=256)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--small", action="store_true", help="tiny sizes, any device: checks the code path")
    args = parser.parse_args()
    if not torch.cuda.is_available() and not args.small:
        print("skipped: no CUDA device (run with --small to check the code path on the CPU)")
        return
    from dlmkit.engine.pipeline import build_ref, run_recipe
    from dlmkit.inference.generation import generate
    from dlmkit.plugins import build, make_params
    from dlmkit.recipe.load import load_recipe
    from dlmkit.storage.teacher_files import load_teacher

    device = "cuda" if torch.cuda.is_available() else "cpu"
    sizes = dict(vocab=30522, seq_len=128, hidden=768, layers=12, ffn=3072)
    if args.small:
        sizes = dict(vocab=512, seq_len=32, hidden=48, layers=1, ffn=96)
        args.steps, args.batch_size = min(args.steps, 4), min(args.batch_size, 8)
        args.sequences = min(args.sequences, 8)
    out = args.out or Path(tempfile.mkdtemp(prefix="gpu_smoke_"))
    out.mkdir(parents=True, exist_ok=True)
    recipe_path = out / "gpu_smoke.toml"
    recipe_path.write_text(RECIPE.format(device=device, steps=args.steps, batch=args.batch_size, **sizes))
    recipe = load_recipe(recipe_path)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    state = run_recipe(recipe, output_dir=out / "run", progress=False)
    peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else float("nan")
    logged = [json.loads(line) for line in (out / "run" / "metrics.jsonl").read_text().splitlines()]
    steps_per_s = next(r["steps_per_s"] for r in reversed(logged) if r["stage"] == "sid_gan" and "steps_per_s" in r)

    dataset = build_ref(recipe.data)
    schedule = build_ref(recipe.schedule)
    batch = dataset.split("test").slice(0, args.sequences)
    run_dir = out / "run"
    teacher = load_teacher(run_dir / state["stages"]["init"]["teacher"]).to(device)
    student = load_teacher(run_dir / state["stages"]["sid_gan"]["student"]).to(device)
    timings: dict[str, Any] = {}
    for name, model, sampler in (
        ("teacher_ancestral_2000", teacher, build("sampler", "ancestral")),
        ("student_one_step", student, build("sampler", "one_step", make_params("sampler", "one_step", t_init=1490))),
    ):
        generate(model, sampler, schedule, dataset, batch.slice(0, 2), 2, 0, torch.device(device))  # warm-up
        result = generate(model, sampler, schedule, dataset, batch, len(batch), 0, torch.device(device))
        timings[name] = {"seconds": result.seconds, "sequences": len(batch), "nfe": sampler.nfe()}
    ratio = timings["teacher_ancestral_2000"]["seconds"] / timings["student_one_step"]["seconds"]
    report = {
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "date": time.strftime("%Y-%m-%d"),
        "torch": torch.__version__,
        "teacher_parameters": sum(p.numel() for p in teacher.parameters()),
        "sid_gan_steps": args.steps,
        "batch_size": args.batch_size,
        "steps_per_s": steps_per_s,
        "samples_per_s": steps_per_s * args.batch_size,
        "peak_memory_gib": peak,
        "sampling": timings,
        "speedup_one_step_vs_2000_step": ratio,
    }
    (out / "gpu_smoke.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

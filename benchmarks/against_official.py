"""dlmkit against the official DiffuSeq code on the same weights, batch and threads, run alternately.

    python benchmarks/against_official.py --diffuseq PATH [--threads 2] [--batch 64] [--train-steps 4]
                                          [--sample-batch 8] [--ddim-steps 200] [--repeats 2]
                                          [--precision fp32|auto|bf16] [--training-only]

``PATH`` is a checkout of Shark-NLP/DiffuSeq kept outside this repository (it is imported from there,
never copied in); without it the benchmark says so and exits 0.  The model is the shipped quickstart
teacher (``checkpoints/quickstart_teacher``), loaded into both codes: the state-dict keys are the
official ones.  It prints, each the median of ``--repeats`` alternating runs:

* teacher training steps/s (DiffuSeq's loss, uniform timesteps, AdamW, EMA; dlmkit / official),
* 2000-step ancestral and gap-DDIM seconds per sequence, rounding every step as DiffuSeq decodes
  (official / dlmkit),
* dlmkit's SiD+GAN iteration against its own teacher step at the same batch (a ``dlmkit run`` of both
  stages on synthetic pairs).

Goals (issue 18): training >= 1.5x, sampling >= 2x, a SiD+GAN iteration <= 5x a teacher step.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
TEACHER = REPO / "checkpoints" / "quickstart_teacher" / "teacher.safetensors"
EMA_RATE = 0.9999


def official(path: Path, teacher: Any) -> tuple[Any, Any]:
    """The official ``TransformerNetModel`` with ``teacher``'s weights, and its ``SpacedDiffusion``."""
    sys.path.insert(0, str(path))
    from diffuseq import gaussian_diffusion as gd
    from diffuseq.transformer_model import TransformerNetModel
    from transformers import BertConfig

    p = teacher.config
    config = BertConfig(
        vocab_size=teacher.vocab_size,
        hidden_size=p.hidden_size,
        num_hidden_layers=p.num_layers,
        num_attention_heads=p.num_heads,
        intermediate_size=p.intermediate_size,
        max_position_embeddings=p.max_position,
        hidden_dropout_prob=p.dropout,
        attention_probs_dropout_prob=p.attention_dropout,
        layer_norm_eps=p.layer_norm_eps,
    )
    config._attn_implementation = "eager"  # the attention of the transformers the official code was written for
    model = TransformerNetModel(
        input_dims=p.embed_dim,
        output_dims=p.embed_dim,
        hidden_t_dim=p.hidden_t_dim,
        dropout=p.dropout,
        config=config,
        vocab_size=teacher.vocab_size,
    )
    model.load_state_dict(teacher.state_dict(), strict=True)
    diffusion = gd.SpacedDiffusion(
        use_timesteps=gd.space_timesteps(2000, [2000]),
        betas=gd.get_named_beta_schedule("sqrt", 2000),
        rescale_timesteps=True,
        predict_xstart=True,
        learn_sigmas=False,
        sigma_small=False,
        use_kl=False,
        rescale_learned_sigmas=False,
    )
    return model, diffusion


class Unwrapped(torch.nn.Module):
    """The official training code reaches the network as ``model.module`` (it expects DDP)."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)


def ema_update(shadow: torch.nn.Module, model: torch.nn.Module) -> None:
    with torch.no_grad():
        for target, source in zip(shadow.parameters(), model.parameters(), strict=True):
            target.mul_(EMA_RATE).add_(source, alpha=1 - EMA_RATE)


def trainer(
    model: torch.nn.Module, batch: Any, losses: Callable[[Any, torch.Tensor, torch.Generator], Any]
) -> Callable[[], None]:
    """One training step as both codes take it: loss per example at uniform t, mean, AdamW, EMA."""
    model.train()
    shadow = copy.deepcopy(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
    generator = torch.Generator().manual_seed(0)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        t = torch.randint(0, 2000, (len(batch.input_ids),), generator=generator)
        losses(batch, t, generator)["loss"].mean().backward()
        optimizer.step()
        ema_update(shadow, model)

    return step


def official_trainer(path: Path, teacher: Any, batch: Any) -> Callable[[], None]:
    model, diffusion = official(path, teacher)
    wrapped = Unwrapped(model)

    def losses(batch: Any, t: torch.Tensor, generator: torch.Generator) -> Any:
        kwargs = {"input_ids": batch.input_ids, "input_mask": batch.input_mask}
        return diffusion.training_losses(wrapped, batch.input_ids, t, model_kwargs=kwargs)

    return trainer(model, batch, losses)


def dlmkit_trainer(teacher: Any, batch: Any, precision: str) -> Callable[[], None]:
    """dlmkit's loss under the autocast its runtime would use for ``precision`` (bf16 or a no-op)."""
    from dlmkit.engine.runtime import Runtime, resolve_precision
    from dlmkit.plugins import build
    from dlmkit.teacher_losses.diffuseq import diffuseq_loss

    model = copy.deepcopy(teacher)
    schedule = build("schedule", "sqrt")
    device = torch.device("cpu")
    runtime = Runtime(device, resolve_precision(precision, device))

    def losses(batch: Any, t: torch.Tensor, generator: torch.Generator) -> Any:
        with runtime.autocast():
            return diffuseq_loss(model, schedule, batch, t, generator=generator)

    return trainer(model, batch, losses)


def official_sampler(path: Path, teacher: Any, batch: Any, gap: int) -> Callable[[], None]:
    from diffuseq.rounding import denoised_fn_round

    model, diffusion = official(path, teacher)
    model.eval()
    embedding = model.word_embedding
    args = argparse.Namespace()

    def sample() -> None:
        x_start = model.get_embeds(batch.input_ids)
        mask = torch.broadcast_to(batch.input_mask.unsqueeze(-1), x_start.shape)
        noised = torch.where(mask == 0, x_start, torch.randn_like(x_start))
        loop = diffusion.p_sample_loop if gap == 1 else diffusion.ddim_sample_loop
        samples = loop(
            model,
            x_start.shape,
            noise=noised,
            clip_denoised=False,
            denoised_fn=lambda x, t: denoised_fn_round(args, embedding, x, t),
            model_kwargs={},
            top_p=-1.0,
            clamp_step=0,
            clamp_first=True,
            mask=mask,
            x_start=x_start,
            gap=gap,
        )
        model.get_logits(samples[-1]).argmax(dim=-1)

    return torch.no_grad()(sample)


def dlmkit_sampler(teacher: Any, batch: Any, name: str, steps: int | None) -> Callable[[], None]:
    from dlmkit.inference.sampler_choice import make_sampler
    from dlmkit.plugins import build
    from dlmkit.samplers.noise import SeededNoise

    schedule = build("schedule", "sqrt")
    sampler = make_sampler(name, steps)
    model = teacher.eval()

    def sample() -> None:
        with torch.no_grad():
            sampler.sample(model, batch, schedule, SeededNoise(0))

    return sample


def seconds(call: Callable[[], None], repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - start) / repeat


def timer(call: Callable[[], None]) -> Callable[[], float]:
    return lambda: seconds(call)


def alternate(first: Callable[[], float], second: Callable[[], float], repeats: int) -> tuple[float, float]:
    """Medians of ``repeats`` alternating measurements (first, second, first, second, ...)."""
    a, b = [], []
    for _ in range(repeats):
        a.append(first())
        b.append(second())
    return statistics.median(a), statistics.median(b)


def sid_gan_vs_teacher_step(batch_size: int, steps: int) -> dict[str, float]:
    """One ``dlmkit run``: a teacher stage and a SiD+GAN stage on the same batch size, steps/s of each."""
    from dlmkit.engine.pipeline import run_recipe
    from dlmkit.recipe.load import load_recipe

    folder = Path(tempfile.mkdtemp(prefix="against_official_"))
    recipe = folder / "ratio.toml"
    recipe.write_text(
        f"""schema_version = 1
name = "sid_gan_ratio"
[data]
name = "synthetic"
vocab_size = 8000
seq_len = 64
[teacher]
name = "diffuseq"
checkpoint = "{TEACHER}"
[runtime]
device = "cpu"
progress = "off"
[sampler]
name = "one_step"
t_init = 1490
[[stage]]
name = "teacher"
kind = "train_teacher"
steps = {2 * steps}
batch_size = {batch_size}
log_every = {steps}
[[stage]]
name = "sid_gan"
kind = "distill"
steps = {2 * steps}
batch_size = {batch_size}
log_every = {steps}
eval_every = 0
eval_samples = 8
[stage.objective]
name = "sid_gan"
""",
        encoding="utf-8",
    )
    run_recipe(load_recipe(recipe), output_dir=folder / "run", progress=False)
    logged = [json.loads(line) for line in (folder / "run" / "metrics.jsonl").read_text().splitlines()]
    rate = {r["stage"]: r["steps_per_s"] for r in logged if "steps_per_s" in r}  # the last (steady) line
    return {"teacher_step_s": 1 / rate["teacher"], "sid_gan_iteration_s": 1 / rate["sid_gan"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--diffuseq", type=Path, default=None, help="a checkout of Shark-NLP/DiffuSeq")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--train-steps", type=int, default=4)
    parser.add_argument("--sample-batch", type=int, default=8)
    parser.add_argument("--ddim-steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="alternating pairs for training and gap-DDIM")
    parser.add_argument("--ancestral-repeats", type=int, default=1, help="pairs of 2000-step runs (minutes each)")
    parser.add_argument(
        "--precision",
        choices=["fp32", "auto", "bf16"],
        default="fp32",
        help="dlmkit's training precision (the official code trains in fp32 on a CPU); auto is what a recipe "
        "gets by default: bf16 where the CPU computes it natively",
    )
    parser.add_argument("--training-only", action="store_true", help="measure the training step alone")
    args = parser.parse_args(argv)
    if args.diffuseq is None:
        print("skipped: give --diffuseq PATH, a checkout of Shark-NLP/DiffuSeq (kept outside this repository)")
        return 0
    if not (args.diffuseq / "diffuseq" / "gaussian_diffusion.py").is_file():
        print(f"error: {args.diffuseq} is not a DiffuSeq checkout (no diffuseq/gaussian_diffusion.py)")
        return 2
    from dlmkit.data.synthetic import SyntheticPairs, SyntheticPairsParams
    from dlmkit.engine.runtime import resolve_precision
    from dlmkit.storage.teacher_files import load_teacher

    torch.set_num_threads(args.threads)
    teacher = load_teacher(TEACHER)
    data = SyntheticPairs(SyntheticPairsParams(vocab_size=teacher.vocab_size, seq_len=teacher.seq_len)).split("train")
    train_batch, sample_batch = data.slice(0, args.batch), data.slice(0, args.sample_batch)
    results: dict[str, Any] = {"threads": args.threads, "batch": args.batch, "sample_batch": args.sample_batch}
    ours = dlmkit_trainer(teacher, train_batch, args.precision)
    theirs = official_trainer(args.diffuseq, teacher, train_batch)
    ours(), theirs()  # warm-up
    t_off, t_ours = alternate(
        lambda: seconds(theirs, args.train_steps), lambda: seconds(ours, args.train_steps), args.repeats
    )
    results["training"] = {
        "official_step_s": t_off,
        "dlmkit_step_s": t_ours,
        "speedup": t_off / t_ours,
        "dlmkit_precision": resolve_precision(args.precision, torch.device("cpu")),
    }
    print("training", json.dumps(results["training"]), flush=True)
    if args.training_only:
        print(f"training {results['training']['speedup']:.2f}x the official steps/s (goal >= 1.5)")
        return 0
    ratio = sid_gan_vs_teacher_step(args.batch, args.train_steps)
    results["sid_gan"] = {**ratio, "ratio": ratio["sid_gan_iteration_s"] / ratio["teacher_step_s"]}
    print("sid_gan", json.dumps(results["sid_gan"]), flush=True)

    gap = 2000 // args.ddim_steps
    for label, name, steps, official_gap, repeats in (
        (f"ddim_gap_{args.ddim_steps}", "ddim_gap", args.ddim_steps, gap, args.repeats),
        ("ancestral_2000", "ancestral", None, 1, args.ancestral_repeats),
    ):
        ours_s = dlmkit_sampler(teacher, sample_batch, name, steps)
        theirs_s = official_sampler(args.diffuseq, teacher, sample_batch, official_gap)
        s_off, s_ours = alternate(timer(theirs_s), timer(ours_s), repeats)
        n = len(sample_batch.input_ids)
        results[label] = {
            "official_s_per_seq": s_off / n,
            "dlmkit_s_per_seq": s_ours / n,
            "speedup": s_off / s_ours,
        }
        print(label, json.dumps(results[label]), flush=True)
    print(json.dumps(results, indent=2))
    print(
        f"training {results['training']['speedup']:.2f}x the official steps/s (goal >= 1.5); "
        f"ancestral {results['ancestral_2000']['speedup']:.2f}x and gap-DDIM "
        f"{results[f'ddim_gap_{args.ddim_steps}']['speedup']:.2f}x the official speed (goal >= 2); "
        f"a SiD+GAN iteration {results['sid_gan']['ratio']:.2f}x a teacher step (goal <= 5)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

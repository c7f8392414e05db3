"""Training speed of fp32 against bf16 autocast, measured side by side in one run on this machine.

    python benchmarks/precision.py [--device cpu|cuda] [--steps 8] [--layers 3] [--hidden 384]

Builds a DiffuSeq teacher of the given size (random weights, sequence length 64, vocabulary 8000),
runs the DiffuSeq training loss forward and backward for a few warm-up steps and then ``--steps``
timed steps in each precision, alternating, and prints steps/s and the bf16/fp32 ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    from dlmkit.interfaces import Batch
    from dlmkit.plugins import build, get_registry
    from dlmkit.teacher_losses.diffuseq import diffuseq_loss

    device = torch.device(args.device)
    entry = get_registry().get("teacher", "diffuseq")
    params = entry.make_params(
        seq_len=64, hidden_size=args.hidden, num_layers=args.layers, num_heads=12, intermediate_size=4 * args.hidden
    )
    schedule = build("schedule", "sqrt")
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 8000, (args.batch_size, 64), generator=g).to(device)
    mask = torch.ones_like(ids)
    mask[:, :24] = 0
    batch = Batch(ids, mask)
    rates: dict[str, float] = {}
    models = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        models[precision] = entry.build(params, vocab_size=8000, seq_len=64).to(device).train()

    def step(precision: str) -> None:
        model = models[precision]
        cast = torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()
        t = torch.randint(0, 2000, (args.batch_size,), generator=g).to(device)
        with cast:
            loss = diffuseq_loss(model, schedule, batch, t)["loss"].mean()
        loss.backward()
        model.zero_grad(set_to_none=True)

    for precision in models:  # warm-up
        for _ in range(2):
            step(precision)
    elapsed = {p: 0.0 for p in models}
    for _ in range(args.steps):  # alternate, so both see the same machine load
        for precision in models:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            step(precision)
            if device.type == "cuda":
                torch.cuda.synchronize()
            elapsed[precision] += time.perf_counter() - start
    for precision, seconds in elapsed.items():
        rates[precision] = args.steps / seconds
        print(f"{precision}: {rates[precision]:.3f} steps/s")
    print(
        f"bf16 / fp32 speed ratio: {rates['bf16'] / rates['fp32']:.2f}x ({device}, {torch.get_num_threads()} threads)"
    )


if __name__ == "__main__":
    main()

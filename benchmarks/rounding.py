"""Nearest-embedding rounding: dlmkit's layout against the official ``[V, positions]`` layout, side by side.

    python benchmarks/rounding.py [--vocab 30522] [--width 128] [--positions 1536] [--repeats 10] [--threads 1]

The official rule (DiffuSeq ``get_efficient_knn``) builds ``||e||^2 + ||x||^2 - 2 e.x`` as a
``[V, positions]`` matrix and reduces along its strided dimension, recomputing the table's norms each
call.  Both versions run alternately on the same inputs; the script checks they pick the same ids and
prints seconds per call and the ratio.
"""

from __future__ import annotations

import argparse
import time

import torch


def official_layout(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    table_sq = (table**2).sum(-1).view(-1, 1)
    dist = table_sq + (x**2).sum(-1).view(1, -1) - 2.0 * torch.mm(table, x.t())
    return dist.clamp(min=0.0).argmin(dim=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=30522)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--positions", type=int, default=1536, help="batch x sequence length (16 x 96)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    from dlmkit.nn.rounding import nearest_embedding

    torch.set_num_threads(args.threads)
    draws = torch.Generator().manual_seed(0)
    table = torch.randn(args.vocab, args.width, generator=draws)
    x = torch.randn(args.positions, args.width, generator=draws)
    if not torch.equal(official_layout(x, table), nearest_embedding(x, table)):
        raise SystemExit("the two layouts disagree on these inputs")
    times = {"official layout": 0.0, "dlmkit": 0.0}
    for _ in range(args.repeats):
        for name, fn in (("official layout", official_layout), ("dlmkit", nearest_embedding)):
            start = time.perf_counter()
            fn(x, table)
            times[name] += time.perf_counter() - start
    for name, total in times.items():
        print(f"{name:16s} {total / args.repeats * 1000:8.1f} ms per call")
    print(f"speed-up {times['official layout'] / times['dlmkit']:.2f}x (same ids)")


if __name__ == "__main__":
    main()

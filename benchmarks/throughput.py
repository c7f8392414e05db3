"""Sentences per second a user can plan with: the one-step student beside the teacher's samplers, one run.

    python benchmarks/throughput.py [SOURCE] [--batch-sizes 1,32,256] [--teacher-batch 32]
                                    [--ancestral-steps 2000] [--device cpu|cuda] [--threads N]

SOURCE is a run folder (its student) or a recipe (default ``recipes/quickstart.toml``; then the
"student" row is the teacher's one-step prediction, which costs exactly what a distilled student costs,
since the student is the teacher's network).  Every row turns real test sources into clean text through
``dlmkit.Generator`` (tokenizing, sampling, rounding and decoding included) and is timed after a warm-up
batch.  Rows are measured in one process, in turn, so the ratios against the student at the teacher's
batch size hold on a busy machine even where the absolute rates do not.  bf16 rows appear where the
device runs bf16 natively (CUDA, or a CPU with AMX or AVX512-BF16); elsewhere the reason is printed.

``--ancestral-steps`` below 2000 times a respaced chain and scales its rate to 2000 steps (every
ancestral step costs one network call and one rounding); the table then says so.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from dlmkit.inference.generator import Generator

FULL_CHAIN = 2000


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


@contextlib.contextmanager
def _precision(name: str, device: torch.device) -> Iterator[None]:
    if name == "bf16":
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            yield
    else:
        yield


def _rate(generator: Generator, sources: list[str], batch_size: int, precision: str, device: torch.device) -> float:
    """Sentences per second over ``sources`` at ``batch_size``, after one warm-up batch."""
    generate = generator.generate
    with _precision(precision, device):
        generate(sources[:batch_size], batch_size=batch_size, seed=0)
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        generate(sources, batch_size=batch_size, seed=1)
        if device.type == "cuda":
            torch.cuda.synchronize()
    return len(sources) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default="recipes/quickstart.toml")
    parser.add_argument("--batch-sizes", default="1,32,256", help="student batch sizes, comma-separated")
    parser.add_argument("--teacher-batch", type=int, default=32, help="batch size of the teacher's rows")
    parser.add_argument("--ancestral-steps", type=int, default=FULL_CHAIN)
    parser.add_argument("--batches", type=int, default=2, help="timed batches per student row (batch 1: 32)")
    parser.add_argument("--sources", type=Path, default=None, help="one source per line (default: the test split)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    import dlmkit
    from dlmkit.engine.runtime import native_cpu_bf16

    device = torch.device(args.device)
    sources = _sources(args.source, args.sources)
    role = "student" if Path(args.source).is_dir() else "teacher"
    student = dlmkit.Generator.load(args.source, model=role, sampler="one_step", device=args.device)
    teachers = {
        "teacher, DPM-Solver++ 10 steps": dlmkit.Generator.load(
            args.source, model="teacher", sampler="dpm_solver_pp", steps=10, device=args.device
        ),
        f"teacher, ancestral {FULL_CHAIN} steps": dlmkit.Generator.load(
            args.source, model="teacher", sampler="ancestral", steps=args.ancestral_steps, device=args.device
        ),
    }
    precisions = ["fp32"]
    if device.type == "cuda" or native_cpu_bf16():
        precisions.append("bf16")
    threads = f"{torch.get_num_threads()} threads"
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{_cpu_name()}, {threads}"
    print(f"source: {args.source} ({role} network, one step at its t_init); device: {where}; torch {torch.__version__}")
    if "bf16" not in precisions:
        print("bf16: skipped, this CPU has no native bf16 (no amx_bf16 or avx512_bf16), where torch emulates it slowly")

    rows: list[tuple[str, str, int, float]] = []
    sizes = [int(b) for b in args.batch_sizes.split(",")]
    for precision in precisions:
        for size in sorted(set([*sizes, args.teacher_batch])):
            count = size * (32 if size == 1 else args.batches)
            rate = _rate(student, _take(sources, count), size, precision, device)
            rows.append(("student, 1 step", precision, size, rate))
        for label, generator in teachers.items():
            rate = _rate(generator, _take(sources, args.teacher_batch), args.teacher_batch, precision, device)
            if "ancestral" in label:
                rate *= args.ancestral_steps / FULL_CHAIN
                if args.ancestral_steps != FULL_CHAIN:
                    label += f" (timed at {args.ancestral_steps}, scaled)"
            rows.append((label, precision, args.teacher_batch, rate))

    print("\n| model | precision | batch | sentences/s | student's speed-up at this batch |")
    print("|---|---|---|---|---|")
    for label, precision, size, rate in rows:
        base = next(r for lab, p, s, r in rows if lab.startswith("student") and p == precision and s == size)
        ratio = "" if label.startswith("student") else f"{base / rate:,.0f}x"
        print(f"| {label} | {precision} | {size} | {rate:.3g} | {ratio} |")


def _sources(source: str, path: Path | None) -> list[str]:
    """Sources from ``path`` (one per line), else the test split of the source's data."""
    from dlmkit.inference.sources import open_source

    if path is not None:
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = getattr(open_source(source).dataset, "texts", None)
    if texts is None:
        raise SystemExit(f"{source}: its data has no text splits to read; give --sources FILE")
    found: list[str] = texts("test")[0]
    return found


def _take(sources: list[str], count: int) -> list[str]:
    """``count`` sources, cycling through the split when it is shorter."""
    return [sources[i % len(sources)] for i in range(count)]


if __name__ == "__main__":
    main()

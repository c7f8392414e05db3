"""Device, precision, threads and seeding for one process."""

from __future__ import annotations

import contextlib
import platform
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import torch

from dlmkit.devices import pick_device
from dlmkit.engine.distributed import World
from dlmkit.errors import UserError
from dlmkit.recipe.schema import RuntimeSpec
from dlmkit.thread_policy import default_threads


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def native_cpu_bf16() -> bool:
    """Whether this CPU computes bf16 natively (x86 AVX512-BF16 or AMX, Arm BF16).

    Without it, torch emulates bf16 and a DLM-One step under bf16 autocast was measured 12-20x slower
    than in fp32 (an AMD EPYC with AVX2); with it, about 2x faster.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return platform.machine() == "arm64" and platform.system() == "Darwin"  # Apple M2 and later have BF16
    return any(flag in flags for flag in ("avx512_bf16", "amx_bf16", "bf16"))


def precision_choice(precision: str, device: torch.device) -> tuple[str, str, str | None]:
    """The precision to run in, why (logged at start), and a warning when bf16 was asked for where it is slow.

    ``auto``: bf16 on CUDA and on CPUs with native bf16, fp32 elsewhere; other values as written.
    """
    native = device.type == "cuda" or (device.type == "cpu" and native_cpu_bf16())
    resolved = ("bf16" if native else "fp32") if precision == "auto" else precision
    where = "CUDA" if device.type == "cuda" else f"this CPU has {'' if native else 'no '}native bf16"
    reason = f"{resolved} (auto: {where})" if precision == "auto" else f"{resolved} (as the recipe asks)"
    warning = None
    if resolved == "bf16" and not native:
        warning = (
            '[runtime] precision = "bf16" on a CPU without native bf16 (no avx512_bf16 or amx_bf16 in /proc/cpuinfo): '
            "torch emulates it, and a DLM-One step was measured 12-20x slower than in fp32 on such a CPU; "
            'use precision = "auto" or "fp32"'
        )
    return resolved, reason, warning


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto``: bf16 on CUDA and on CPUs with native bf16, fp32 elsewhere; other values as written."""
    return precision_choice(precision, device)[0]


def precision_notes(precision: str, device: torch.device) -> tuple[str, str | None]:
    """Why this precision was taken, and the warning for emulated bf16 (see :func:`precision_choice`)."""
    return precision_choice(precision, device)[1:]


@attrs.define
class Runtime:
    """What every stage needs to know about where it runs, including its rank among processes."""

    device: torch.device
    precision: str = "fp32"
    world: World = attrs.field(factory=World)
    compile_networks: bool = False
    precision_reason: str = ""
    precision_warning: str | None = None

    @classmethod
    def from_spec(cls, spec: RuntimeSpec, device_override: str | None = None) -> Runtime:
        if spec.precision == "fp16":
            raise UserError(
                '[runtime] precision = "fp16" is refused: SiD and DMD losses overflow and diverge in fp16; '
                'use "bf16" or "fp32"'
            )
        world = World.from_env()
        threads = spec.threads if spec.threads is not None else default_threads(world.size)
        if threads is not None and threads != torch.get_num_threads():
            torch.set_num_threads(threads)
        device = pick_device(device_override or spec.device)
        if device.type == "cuda" and world.distributed:
            device = torch.device("cuda", world.local_rank)
            torch.cuda.set_device(device)
        world.init(device)
        if device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = spec.tf32
            torch.backends.cudnn.allow_tf32 = spec.tf32
        if spec.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        precision, reason, warning = precision_choice(spec.precision, device)
        return cls(device, precision, world, spec.compile, reason, warning)

    def describe(self) -> str:
        """One line for the start of a run: where it computes, in what precision and why, on how many threads."""
        threads = f", threads {torch.get_num_threads()}" if self.device.type == "cpu" else ""
        return f"device {self.device}, precision {self.precision_reason or self.precision}{threads}"

    @contextlib.contextmanager
    def compiled(self, *networks: Any) -> Iterator[None]:
        """Within the block, the denoising paths of ``networks`` are compiled (``[runtime] compile = true``).

        The compiled methods are instance attributes bound to each network; they are removed on exit
        so that copies made later (stage 2 re-initialising psi) never call into another network.
        """
        if not self.compile_networks:
            yield
            return
        names = ("denoise", "denoise_with_features")
        for net in networks:
            for name in names:
                setattr(net, name, torch.compile(getattr(net, name)))
        try:
            yield
        finally:
            for net in networks:
                for name in names:
                    net.__dict__.pop(name, None)

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """bf16 autocast when asked for (about 2x faster on recent CPUs), a no-op otherwise."""
        if self.precision == "bf16":
            with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16):
                yield
        else:
            yield

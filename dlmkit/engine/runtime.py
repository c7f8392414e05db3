"""Device, precision, threads and seeding for one process."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import attrs
import torch

from dlmkit.engine.distributed import World
from dlmkit.errors import UserError
from dlmkit.recipe.schema import RuntimeSpec


def pick_device(requested: str) -> torch.device:
    """``auto`` takes CUDA when present; asking for CUDA without one is a clear error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for, but torch sees no CUDA device; use --device cpu or auto")
    return torch.device(requested)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


@attrs.define
class Runtime:
    """What every stage needs to know about where it runs, including its rank among processes."""

    device: torch.device
    precision: str = "fp32"
    world: World = attrs.field(factory=World)
    compile_networks: bool = False

    @classmethod
    def from_spec(cls, spec: RuntimeSpec, device_override: str | None = None) -> Runtime:
        if spec.precision == "fp16":
            raise UserError(
                '[runtime] precision = "fp16" is refused: SiD and DMD losses overflow and diverge in fp16; '
                'use "bf16" or "fp32"'
            )
        if spec.threads is not None:
            torch.set_num_threads(spec.threads)
        device = pick_device(device_override or spec.device)
        world = World.from_env()
        if device.type == "cuda" and world.distributed:
            device = torch.device("cuda", world.local_rank)
            torch.cuda.set_device(device)
        world.init(device)
        if device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = spec.tf32
            torch.backends.cudnn.allow_tf32 = spec.tf32
        if spec.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        return cls(device, spec.precision, world, spec.compile)

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

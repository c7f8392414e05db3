"""Multi-process data parallelism on PyTorch's own engine: torchrun sets the environment, DDP syncs gradients.

A single process is the world of size 1 and every helper here is then a no-op, so the training
loops read the same either way.
"""

from __future__ import annotations

import os
from typing import Any

import attrs
import torch
import torch.distributed as dist
from torch import nn


@attrs.frozen
class World:
    """This process's place among the ranks."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @classmethod
    def from_env(cls) -> World:
        """Read what torchrun (``torch.distributed.run``) exported; a plain process is rank 0 of 1."""
        size = int(os.environ.get("WORLD_SIZE", "1"))
        if size <= 1:
            return cls()
        return cls(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))

    def init(self, device: torch.device) -> None:
        """Join the process group (NCCL on CUDA, gloo on the CPU) once per process."""
        if self.distributed and not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")

    def shard(self, batch_size: int, what: str) -> tuple[int, int]:
        """``(start, stop)`` of this rank's contiguous slice of a global batch."""
        if batch_size % self.size:
            from dlmkit.errors import UserError

            raise UserError(f"{what} = {batch_size} must be divisible by the number of processes ({self.size})")
        per = batch_size // self.size
        return self.rank * per, (self.rank + 1) * per

    def wrap(self, module: nn.Module, device: torch.device) -> nn.Module:
        """``module`` inside DistributedDataParallel when there are several ranks."""
        if not self.distributed:
            return module
        device_ids = [device.index] if device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(module, device_ids=device_ids, find_unused_parameters=True)

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Average logged scalars over ranks (same keys on every rank)."""
        if not self.distributed or not values:
            return values
        keys = sorted(values)
        tensor = torch.tensor([values[k] for k in keys], dtype=torch.float64)
        dist.all_reduce(tensor)
        return {k: float(v) / self.size for k, v in zip(keys, tensor.tolist(), strict=True)}

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """Concatenate equal-shaped tensors from every rank, in rank order."""
        if not self.distributed:
            return tensor
        parts = [torch.empty_like(tensor) for _ in range(self.size)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts)

    def all_true(self, flag: bool) -> bool:
        """Whether ``flag`` holds on every rank: collective decisions keep ranks in step."""
        if not self.distributed:
            return flag
        tensor = torch.tensor([1 if flag else 0], dtype=torch.int64)
        dist.all_reduce(tensor, op=dist.ReduceOp.MIN)
        return bool(tensor.item())

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def broadcast_object(self, value: Any) -> Any:
        if not self.distributed:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

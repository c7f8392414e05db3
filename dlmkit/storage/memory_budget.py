"""Whether a network fits this machine, decided on the meta device before a byte is allocated.

A recipe or a teacher file can ask for a network no machine holds (``embed_dim = 1e9``, a 3e9 x 1e9
table); allocating it ends in an allocator traceback or a killed process.  The network is built on
the meta device first (no memory, no time), its parameters counted, and a size beyond the machine's
memory is refused with the estimate.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import torch

from dlmkit.errors import UserError

FP32_BYTES = 4
T = TypeVar("T")

#: Training holds the weights, their gradients and Adam's two moments.
TRAINING_COPIES = 4


def machine_memory() -> int | None:
    """Physical memory in bytes, where the OS says (``None`` elsewhere: then nothing is refused)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def parameter_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters()) + sum(b.numel() for b in module.buffers())


def check_fits(module: torch.nn.Module, where: str, copies: int = 1, memory: int | None = None) -> None:
    """Refuse ``module`` (built on the meta device) when ``copies`` fp32 copies of it exceed the machine's memory."""
    total = machine_memory() if memory is None else memory
    if total is None:
        return
    count = parameter_count(module)
    need = count * FP32_BYTES * copies
    if need > total:
        purpose = "to train (weights, gradients and Adam's moments)" if copies > 1 else "to load"
        raise UserError(
            f"{where}: a network of {count:,} parameters needs about {need / 2**30:,.1f} GiB {purpose}, more than "
            f"this machine's {total / 2**30:,.1f} GiB; check its sizes (embed_dim, hidden_size, num_layers, vocab_size)"
        )


def built_on_meta(make: Callable[[], T], where: str) -> T:
    """``make()`` on the meta device; sizes so large that even their shapes overflow are refused, named."""
    try:
        with torch.device("meta"):
            return make()
    except (OverflowError, MemoryError) as exc:
        raise UserError(f"{where}: sizes too large to build ({type(exc).__name__}: {exc}); check them") from None
    except RuntimeError as exc:
        if "overflow" not in str(exc).lower():
            raise
        raise UserError(
            f"{where}: sizes too large to build ({exc}); check embed_dim, hidden_size, vocab_size"
        ) from None


def refuse_unless_fits(make: Callable[[], torch.nn.Module], where: str, copies: int = 1) -> None:
    """Build ``make()`` on the meta device and refuse it, named, when it would not fit: the one check every
    network goes through before it is allocated (``copies`` as in ``check_fits``)."""
    check_fits(built_on_meta(make, where), where, copies=copies)

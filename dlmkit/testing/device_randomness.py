"""A guard for tests: fail when a seeded random draw would use a generator of another device type.

PyTorch raises for a CPU generator filling a CUDA tensor only when it runs on a GPU, so a CPU-only
suite never sees the mistake.  Inside :class:`StrictRandomness` every random function that is given a
``generator`` is checked *before* it runs: the generator's device type must equal the device type
the draw targets (its ``device=`` argument, the tensor it fills or mimics, else the default device).
On a CPU-only machine drive the drawing code with targets on the ``meta`` device: a CPU generator
aimed at a ``meta`` tensor is exactly the CUDA failure, and the guard reports it by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

FACTORIES: frozenset[Callable[..., Any]] = frozenset(
    {torch.randn, torch.rand, torch.randint, torch.randperm, torch.normal}
)
"""Draws whose target device is their ``device=`` argument (or the default device)."""

FROM_TENSOR: frozenset[Callable[..., Any]] = frozenset(
    {
        torch.randn_like,
        torch.rand_like,
        torch.randint_like,
        torch.multinomial,
        torch.bernoulli,
        torch.poisson,
        torch.Tensor.normal_,
        torch.Tensor.uniform_,
        torch.Tensor.random_,
        torch.Tensor.bernoulli_,
        torch.Tensor.exponential_,
        torch.Tensor.geometric_,
        torch.Tensor.cauchy_,
        torch.Tensor.log_normal_,
        torch.Tensor.multinomial,
    }
)
"""Draws whose target device is that of their first tensor argument (unless ``device=`` is given)."""


class GeneratorDeviceMismatch(AssertionError):
    """A seeded draw aimed at a device of another type than its generator's."""


def _target_device(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.device:
    if kwargs.get("device") is not None:
        return torch.device(kwargs["device"])
    if func in FROM_TENSOR or func is torch.normal:
        for arg in args:
            if isinstance(arg, torch.Tensor):
                return arg.device
    return torch.get_default_device()


class StrictRandomness(TorchFunctionMode):
    """Raise :class:`GeneratorDeviceMismatch` on a generator/target device-type mismatch; count the checks."""

    def __init__(self) -> None:
        super().__init__()
        self.checked = 0

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        generator = kwargs.get("generator")
        if isinstance(generator, torch.Generator) and (func in FACTORIES or func in FROM_TENSOR):
            target = _target_device(func, args, kwargs)
            self.checked += 1
            if generator.device.type != target.type:
                name = getattr(func, "__qualname__", getattr(func, "__name__", repr(func)))
                raise GeneratorDeviceMismatch(
                    f"{name} draws onto {target.type} with a {generator.device.type} generator; draw on the "
                    "generator's device and move the result (dlmkit.randomness), or make the generator on the target"
                )
        return func(*args, **kwargs)

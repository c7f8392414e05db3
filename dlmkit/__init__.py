"""dlmkit: distill continuous diffusion language models into one-step text generators."""

from __future__ import annotations

from dlmkit.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]

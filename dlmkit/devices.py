"""Which torch device a command or a Python caller runs on (below every layer that runs models)."""

from __future__ import annotations

import torch

from dlmkit.errors import UserError


def pick_device(requested: str) -> torch.device:
    """``auto`` takes CUDA when present; asking for CUDA without one is a clear error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for, but torch sees no CUDA device; use --device cpu or auto")
    return torch.device(requested)

"""What each bench point records besides its scores: its output files' names, means over seeds with their
spread, and the machine it ran on."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import torch


def output_stem(stem: str, seed: int, seeds: Sequence[int]) -> str:
    """A point's output file: its stem alone with one seed, one file per seed (``_seedN``) with several."""
    return stem if len(seeds) == 1 else f"{stem}_seed{seed}"


def mean_and_spread(values: Sequence[float]) -> tuple[float, float | None]:
    """The mean and the sample standard deviation (None for a single value: one seed has no spread)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    return mean, (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5


def environment(device: torch.device) -> dict[str, Any]:
    from dlmkit.version import __version__

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return {
        "device": str(device),
        "device_name": name,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "dlmkit": __version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }

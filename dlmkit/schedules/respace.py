"""iDDPM timestep respacing: run a schedule on a subset of its steps with re-derived betas."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

from dlmkit.errors import UserError
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.schedules.discrete import DiscreteSchedule


def space_timesteps(num_timesteps: int, section_counts: str | Sequence[int]) -> list[int]:
    """The kept timesteps, ascending, chosen as iDDPM's ``space_timesteps`` chooses them.

    ``section_counts`` is ``"ddimN"`` (the integer stride that gives exactly N steps), a
    comma-separated string or a list of counts: the ``T`` steps are cut into that many equal
    sections and each section is sampled evenly with rounding, both of its ends included.
    """
    if isinstance(section_counts, str):
        if section_counts.startswith("ddim"):
            wanted = int(section_counts[len("ddim") :])
            for jump in range(1, num_timesteps):
                if len(range(0, num_timesteps, jump)) == wanted:
                    return list(range(0, num_timesteps, jump))
            raise UserError(f"cannot take exactly {wanted} steps out of {num_timesteps} with an integer stride")
        section_counts = [int(part) for part in section_counts.split(",")]
    counts = list(section_counts)
    if not counts or any(c < 1 for c in counts):
        raise UserError(f"section counts must be positive integers, got {counts}")
    per_section, extra = divmod(num_timesteps, len(counts))
    kept: set[int] = set()
    start = 0
    for i, count in enumerate(counts):
        size = per_section + (1 if i < extra else 0)
        if size < count:
            raise UserError(f"cannot take {count} steps from a section of {size} timesteps (T = {num_timesteps})")
        stride = 1.0 if count <= 1 else (size - 1) / (count - 1)
        position = 0.0
        for _ in range(count):
            kept.add(start + round(position))
            position += stride
        start += size
    return sorted(kept)


def respace(schedule: NoiseSchedule, timesteps: Iterable[int]) -> tuple[DiscreteSchedule, Tensor]:
    """A schedule over the kept ``timesteps`` and the map from its indices to the original ones.

    The new betas are ``1 - abar_i / abar_prev_kept``, so the kept steps keep their original
    ``abar`` exactly; a network is still called with the original timestep (``timestep_map``).
    """
    kept = sorted(set(int(t) for t in timesteps))
    if len(kept) < 2 or kept[0] < 0 or kept[-1] >= schedule.num_timesteps:
        raise UserError(f"respacing needs at least 2 distinct timesteps in 0..{schedule.num_timesteps - 1}, got {kept}")
    abar = schedule.alphas_cumprod.to(torch.float64)[torch.tensor(kept)]
    previous = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
    betas = 1.0 - abar / previous
    name = getattr(schedule, "name", "discrete")
    return DiscreteSchedule(betas, name=f"{name}-respaced"), torch.tensor(kept, dtype=torch.long)

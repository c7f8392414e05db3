"""DiffuSeq's training loss (spec diffuseq.md §2.5), for any teacher that satisfies the interface."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dlmkit.interfaces import Batch, NoiseSchedule, Teacher


def mean_flat(x: Tensor) -> Tensor:
    return x.mean(dim=tuple(range(1, x.dim())))


def diffuseq_loss(
    teacher: Teacher, schedule: NoiseSchedule, batch: Batch, t: Tensor, generator: torch.Generator | None = None
) -> dict[str, Tensor]:
    """Per-example loss terms: ``mse`` (all positions, against the slightly noised start; the clean
    embedding at t = 0), ``decoder_nll`` (unmasked CE of the start), ``tT`` and their sum ``loss``."""
    ids, mask = batch.input_ids, batch.input_mask
    x_start_mean = teacher.embed(ids)
    std0 = schedule.extract(schedule.sqrt_one_minus_alphas_cumprod, torch.zeros_like(t), x_start_mean)  # type: ignore[attr-defined]
    x_start = x_start_mean + std0 * _randn(x_start_mean, generator)
    noise = _randn(x_start, generator)
    x_t = schedule.q_sample(x_start, t, noise, mask)
    out = teacher.denoise(x_t, t)
    mse = mean_flat((x_start - out) ** 2)
    t0 = mean_flat((x_start_mean - out) ** 2)
    mse = torch.where(t == 0, t0, mse)
    last = torch.full_like(t, schedule.num_timesteps - 1)
    tT = mean_flat((schedule.extract(schedule.sqrt_alphas_cumprod, last, x_start) * x_start) ** 2)  # type: ignore[attr-defined]
    logits = teacher.logits(x_start)
    nll = F.cross_entropy(logits.transpose(1, 2).float(), ids, reduction="none").mean(dim=-1)
    return {"loss": mse + nll + tT, "mse": mse, "decoder_nll": nll, "tT": tT}


def _randn(like: Tensor, generator: torch.Generator | None) -> Tensor:
    if generator is None:
        return torch.randn_like(like)
    return torch.randn(like.shape, generator=generator, dtype=like.dtype).to(like.device)

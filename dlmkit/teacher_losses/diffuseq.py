"""DiffuSeq's training loss (spec diffuseq.md §2.5), for any teacher that satisfies the interface.

The default ``loss`` of a ``train_teacher`` stage."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dlmkit.interfaces import Batch, NoiseSchedule, Teacher
from dlmkit.nn.token_loss import token_cross_entropy
from dlmkit.randomness import randn_like


def mean_flat(x: Tensor) -> Tensor:
    return x.mean(dim=tuple(range(1, x.dim())))


def diffuseq_loss(
    teacher: Teacher,
    schedule: NoiseSchedule,
    batch: Batch,
    t: Tensor,
    generator: torch.Generator | None = None,
    noises: tuple[Tensor, Tensor] | None = None,
) -> dict[str, Tensor]:
    """Per-example loss terms: ``mse`` (all positions, against the slightly noised start; the clean
    embedding at t = 0), ``decoder_nll`` (unmasked CE of the start), ``tT`` and their sum ``loss``.

    ``noises`` (the start noise and the forward noise) may be given, so that data-parallel ranks can
    use their slices of one global draw and match a single process exactly.
    """
    ids, mask = batch.input_ids, batch.input_mask
    x_start_mean = teacher.embed(ids)
    std0 = schedule.extract(schedule.sqrt_one_minus_alphas_cumprod, torch.zeros_like(t), x_start_mean)
    start_noise, noise = (
        noises if noises is not None else (randn_like(x_start_mean, generator), randn_like(x_start_mean, generator))
    )
    x_start = x_start_mean + std0 * start_noise.to(x_start_mean.dtype)
    noise = noise.to(x_start.dtype)
    x_t = schedule.q_sample(x_start, t, noise, mask)
    out = teacher.denoise(x_t, t)
    mse = mean_flat((x_start - out) ** 2)
    t0 = mean_flat((x_start_mean - out) ** 2)
    mse = torch.where(t == 0, t0, mse)
    last = torch.full_like(t, schedule.num_timesteps - 1)
    tT = mean_flat((schedule.extract(schedule.sqrt_alphas_cumprod, last, x_start) * x_start) ** 2)
    nll = token_cross_entropy(teacher.logits(x_start), ids).mean(dim=-1)
    return {"loss": mse + nll + tT, "mse": mse, "decoder_nll": nll, "tT": tT}


class DiffuSeqLoss:
    """DiffuSeq's loss as a ``TeacherLoss`` component: two noise draws (the start's and the forward one)."""

    noise_draws = 2

    def __call__(
        self, teacher: Teacher, schedule: NoiseSchedule, batch: Batch, t: Tensor, noises: Sequence[Tensor]
    ) -> dict[str, Tensor]:
        start_noise, noise = noises
        return diffuseq_loss(teacher, schedule, batch, t, noises=(start_noise, noise))


def build_diffuseq_loss(params: None) -> DiffuSeqLoss:
    """DiffuSeq's loss: MSE to the start, the rounding cross-entropy and the prior term."""
    return DiffuSeqLoss()

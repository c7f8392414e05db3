"""A teacher-likelihood proxy for the student's outputs: how well the teacher denoises them.

BLEU cannot tell a student that writes what the teacher would write from one that games n-gram
overlap.  The teacher's denoising error on the student's own outputs, ``mean_t ||f_teacher(x_t) - x_g||^2``
per target token, falls as the outputs move toward sequences the teacher finds likely (DiffuSeq's
loss is this error on real data), so distillation runs log it next to the validation metric.
"""

from __future__ import annotations

import torch

from dlmkit.interfaces import Batch, ConditioningInjector, NoiseSchedule, OneStepGenerator, Teacher
from dlmkit.randomness import randn, randn_like

#: Probe times as fractions of the schedule's length: low, middle and high noise.
PROBE_FRACTIONS = (0.05, 0.25, 0.5, 0.75)


@torch.no_grad()
def teacher_denoising_error(
    teacher: Teacher,
    student: Teacher,
    generator: OneStepGenerator,
    schedule: NoiseSchedule,
    injector: ConditioningInjector,
    batch: Batch,
    device: torch.device,
    seed: int = 0,
) -> float:
    """Mean over probe times of the teacher's squared x0 error per target token on ``generator``'s outputs.

    The generator noise and the probe noise come from ``seed``, so two calls on the same batch differ
    only by the student.
    """
    draws = torch.Generator().manual_seed(seed)
    ids, mask = batch.input_ids.to(device), batch.input_mask.to(device)
    z = randn((*ids.shape, teacher.embed_dim), draws, device)
    x_g = generator.generate(student, Batch(ids, mask), schedule, z, injector)
    m = mask.unsqueeze(-1).to(x_g.dtype)
    tokens = m.sum().clamp_min(1.0)
    errors = []
    for fraction in PROBE_FRACTIONS:
        t = torch.full((ids.shape[0],), int(fraction * (schedule.num_timesteps - 1)), device=device, dtype=torch.long)
        x_t = injector.noised(schedule.q_sample(x_g, t, randn_like(x_g, draws), mask), x_g, mask)
        pred = teacher.denoise(x_t, t)
        errors.append(float((((pred - x_g) ** 2) * m).sum() / tokens))
    return sum(errors) / len(errors)

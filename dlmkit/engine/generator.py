"""The one-step generator of DLM-One (distillation spec §6.0): the student evaluated once at ``t_init``."""

from __future__ import annotations

import torch
from torch import Tensor

from dlmkit.interfaces import ConditioningInjector, NoiseSchedule, Teacher


class OneStepGenerator:
    """Maps (condition, noise) to a packed sequence whose target part the student writes in one pass.

    The student is a copy of the teacher; its embedding stays frozen (it is the teacher's), so the
    condition embedding and the rounding table are the teacher's throughout distillation.
    """

    def __init__(self, student: Teacher, schedule: NoiseSchedule, injector: ConditioningInjector, t_init: int):
        if not 0 <= t_init < schedule.num_timesteps:
            raise ValueError(f"t_init must be in [0, {schedule.num_timesteps}), got {t_init}")
        self.student = student
        self.schedule = schedule
        self.injector = injector
        self.t_init = t_init

    def condition(self, ids: Tensor, mask: Tensor) -> Tensor:
        """The clean embedding of the condition positions (target positions zeroed)."""
        with torch.no_grad():
            emb = self.student.embed(ids)
        return emb * (1 - mask.unsqueeze(-1).to(emb.dtype))

    def __call__(self, ids: Tensor, mask: Tensor, z: Tensor) -> tuple[Tensor, Tensor]:
        """``(x_g, x_cond)``: the generator output after the injector, and the condition embedding."""
        x_cond = self.condition(ids, mask)
        m = mask.unsqueeze(-1).to(x_cond.dtype)
        t = torch.full((ids.shape[0],), self.t_init, device=ids.device, dtype=torch.long)
        scale = self.schedule.extract(self.schedule.sqrt_one_minus_alphas_cumprod, t, z)  # type: ignore[attr-defined]
        x_init = (1 - m) * x_cond + m * (scale * z)
        raw = self.student.denoise(x_init, t)
        return self.injector.generated(raw, x_cond, mask), x_cond

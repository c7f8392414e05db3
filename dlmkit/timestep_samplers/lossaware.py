"""DiffuSeq's loss-aware timestep sampler (``LossSecondMomentResampler``) for teacher training."""

from __future__ import annotations

from typing import Any

import attrs
import torch
from attrs import validators as v
from torch import Tensor

from dlmkit.randomness import multinomial


@attrs.frozen
class LossAwareParams:
    """DiffuSeq's settings: 10 losses of history per timestep, 0.1% of the mass kept uniform."""

    history: int = attrs.field(default=10, validator=v.gt(0))
    uniform_prob: float = attrs.field(default=0.001, validator=[v.ge(0.0), v.le(1.0)])


class LossAwareTimesteps:
    """DiffuSeq's ``LossSecondMomentResampler``: p_t ∝ sqrt(E[loss_t^2]) once every t has a full history.

    Until then it samples uniformly.  Losses are importance-weighted by ``1 / (T p_t)`` so the
    objective stays unbiased.
    """

    def __init__(self, num_timesteps: int, history: int = 10, uniform_prob: float = 0.001):
        self.num_timesteps = num_timesteps
        self.history = history
        self.uniform_prob = uniform_prob
        self.losses = torch.zeros(num_timesteps, history, dtype=torch.float64)
        self.counts = torch.zeros(num_timesteps, dtype=torch.long)

    def weights(self) -> Tensor:
        if not bool((self.counts == self.history).all()):
            return torch.ones(self.num_timesteps, dtype=torch.float64)
        w = torch.sqrt((self.losses**2).mean(dim=-1))
        w = w / w.sum()
        return w * (1 - self.uniform_prob) + self.uniform_prob / self.num_timesteps

    def sample(self, batch: int, generator: torch.Generator, device: torch.device) -> tuple[Tensor, Tensor]:
        w = self.weights()
        p = w / w.sum()
        t = multinomial(p, batch, generator, "cpu")
        importance = 1.0 / (self.num_timesteps * p[t])
        return t.to(device), importance.to(device=device, dtype=torch.float32)

    def update(self, t: Tensor, losses: Tensor) -> None:
        for step, loss in zip(t.tolist(), losses.detach().double().cpu().tolist(), strict=True):
            if self.counts[step] == self.history:
                self.losses[step, :-1] = self.losses[step, 1:].clone()
                self.losses[step, -1] = loss
            else:
                self.losses[step, self.counts[step]] = loss
                self.counts[step] += 1

    def state_dict(self) -> dict[str, Any]:
        return {"losses": self.losses.clone(), "counts": self.counts.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.losses = state["losses"].clone()
        self.counts = state["counts"].clone()


def build_lossaware(params: LossAwareParams, num_timesteps: int) -> LossAwareTimesteps:
    """p_t proportional to the RMS of the last losses at t, once every t has a full history."""
    return LossAwareTimesteps(num_timesteps, params.history, params.uniform_prob)

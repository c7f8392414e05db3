"""The noise-schedule contract: a discrete variance-preserving forward process."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import Tensor


@runtime_checkable
class NoiseSchedule(Protocol):
    """Discrete VP schedule over timesteps ``0..T-1`` (DiffuSeq indexing: ``x_0`` is one step noisy).

    Arrays are float64 for exactness and are cast to the input dtype on extraction.
    Masks are 1 where a position is noised (the target) and 0 where it is kept (the condition).
    """

    num_timesteps: int
    betas: Tensor
    alphas_cumprod: Tensor
    alphas_cumprod_prev: Tensor
    sqrt_alphas_cumprod: Tensor
    sqrt_one_minus_alphas_cumprod: Tensor
    posterior_variance: Tensor
    posterior_mean_coef1: Tensor
    posterior_mean_coef2: Tensor

    def q_sample(self, x0: Tensor, t: Tensor, noise: Tensor, mask: Tensor | None = None) -> Tensor:
        """``sqrt(abar_t) x0 + sqrt(1-abar_t) noise`` where ``mask`` is 1, ``x0`` elsewhere."""
        ...

    def predict_x0_from_eps(self, x_t: Tensor, t: Tensor, eps: Tensor) -> Tensor: ...

    def predict_eps_from_x0(self, x_t: Tensor, t: Tensor, x0: Tensor) -> Tensor: ...

    def q_posterior_mean(self, x0: Tensor, x_t: Tensor, t: Tensor) -> Tensor: ...

    def model_time(self, t: Tensor) -> Tensor:
        """The float time a network sees for integer ``t``: ``t * 1000 / T`` (DiffuSeq rescaling)."""
        ...

    def sample_timesteps(
        self,
        batch: int,
        t_min: int,
        t_max: int,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
    ) -> Tensor:
        """Uniform integer timesteps in ``[t_min, t_max]`` (both inclusive)."""
        ...

    def extract(self, array: Tensor, t: Tensor, like: Tensor) -> Tensor:
        """``array[t]`` cast to ``like``'s dtype/device and broadcast to ``like``'s rank."""
        ...

"""A discrete variance-preserving schedule built from its betas (the iDDPM / DiffuSeq arrays)."""

from __future__ import annotations

import attrs
import torch
from torch import Tensor

from dlmkit.errors import UserError

#: The largest schedule a recipe may ask for: every schedule keeps float64 tables of this length,
#: and a sampler may loop over all of it (DiffuSeq uses 2000).
MAX_TIMESTEPS = 100_000
#: The ``num_timesteps`` rule every schedule's params share.
NUM_TIMESTEPS_RULE = [attrs.validators.instance_of(int), attrs.validators.gt(1), attrs.validators.le(MAX_TIMESTEPS)]


class DiscreteSchedule:
    """Every array DiffuSeq derives from ``betas``, kept in float64 and cast only on extraction.

    Index ``t`` runs over ``0..T-1`` and ``x_0`` is already one step noisy (DiffuSeq indexing), so
    ``alphas_cumprod_prev[0] = 1`` and the posterior at ``t = 0`` collapses onto the ``x0`` estimate.
    Keeping float64 matters: ``abar`` reaches 2e-7 at ``t = T-1`` on the sqrt schedule, where
    float32 conversions between ``x0`` and ``eps`` would lose several digits.
    """

    def __init__(self, betas: Tensor, name: str = "discrete", max_beta: float = 1.0) -> None:
        betas = torch.as_tensor(betas).detach().to(device="cpu", dtype=torch.float64).clone()
        if betas.dim() != 1 or betas.numel() < 2:
            raise UserError(
                f"schedule '{name}': betas must be a 1-D tensor of at least 2 values, got {tuple(betas.shape)}"
            )
        if not bool(torch.isfinite(betas).all()) or bool((betas <= 0).any()) or bool((betas > max_beta).any()):
            bad = int(torch.nonzero(~((betas > 0) & (betas <= max_beta)))[0].item())
            raise UserError(
                f"schedule '{name}': beta[{bad}] = {betas[bad].item()!r} is outside (0, {max_beta}]; "
                "every beta must be a positive probability"
            )
        self.name = name
        self.num_timesteps = int(betas.numel())
        self.betas = betas
        alphas = 1.0 - betas
        self.alphas_cumprod = torch.cumprod(alphas, dim=0)
        one = torch.ones(1, dtype=torch.float64)
        self.alphas_cumprod_prev = torch.cat([one, self.alphas_cumprod[:-1]])
        self.sqrt_alphas_cumprod = self.alphas_cumprod.sqrt()
        self.sqrt_one_minus_alphas_cumprod = (1.0 - self.alphas_cumprod).sqrt()
        self.sqrt_recip_alphas_cumprod = (1.0 / self.alphas_cumprod).sqrt()
        self.sqrt_recipm1_alphas_cumprod = (1.0 / self.alphas_cumprod - 1.0).sqrt()
        denom = 1.0 - self.alphas_cumprod
        self.posterior_variance = betas * (1.0 - self.alphas_cumprod_prev) / denom
        self.posterior_mean_coef1 = betas * self.alphas_cumprod_prev.sqrt() / denom
        self.posterior_mean_coef2 = (1.0 - self.alphas_cumprod_prev) * alphas.sqrt() / denom
        # "Fixed large" sampling variance: beta_t, except t = 0 borrows the posterior variance of
        # t = 1 (the posterior variance at t = 0 is exactly zero, whose log would be -inf).
        self.sampling_variance = torch.cat([self.posterior_variance[1:2], betas[1:]])
        self.sampling_log_variance = self.sampling_variance.log()
        self._device_cache: dict[tuple[int, torch.device], Tensor] = {}
        self._names_by_id = {id(v): k for k, v in vars(self).items() if isinstance(v, Tensor)}

    def __repr__(self) -> str:
        return f"DiscreteSchedule(name={self.name!r}, num_timesteps={self.num_timesteps})"

    # -- extraction -------------------------------------------------------------------------

    def _on(self, array: Tensor, device: torch.device) -> Tensor:
        """``array`` on ``device``; the schedule's own arrays are copied once per device and kept.

        Other arrays (a sampler's derived ones) are moved each time: caching them by identity
        would pin every temporary.  MPS has no float64, so indexing stays on the CPU there.
        """
        if device.type in ("cpu", "mps") or array.device == device:
            return array
        own = self.__dict__.get(self._names_by_id.get(id(array), ""))
        if own is not array:
            return array.to(device)
        key = (id(array), device)
        cached = self._device_cache.get(key)
        if cached is None:
            cached = array.to(device)
            self._device_cache[key] = cached
        return cached

    def extract(self, array: Tensor, t: Tensor, like: Tensor) -> Tensor:
        """``array[t]`` as ``like``'s dtype/device, shaped ``[B, 1, ..., 1]`` to broadcast against ``like``."""
        t = torch.as_tensor(t)
        source = self._on(array, t.device)
        index = t.to(source.device) if source.device != t.device else t
        values = source[index.long()].to(device=like.device, dtype=like.dtype)
        lead = values.shape if values.dim() > 0 else torch.Size([1])
        return values.reshape(*lead, *([1] * (like.dim() - len(lead))))

    # -- forward process and conversions ----------------------------------------------------

    def q_sample(self, x0: Tensor, t: Tensor, noise: Tensor, mask: Tensor | None = None) -> Tensor:
        """Noise ``x0`` to step ``t``; positions where ``mask`` is 0 (the condition) stay ``x0``."""
        x_t = (
            self.extract(self.sqrt_alphas_cumprod, t, x0) * x0
            + self.extract(self.sqrt_one_minus_alphas_cumprod, t, x0) * noise
        )
        if mask is None:
            return x_t
        if mask.dim() == x0.dim() - 1:
            mask = mask.unsqueeze(-1)
        return torch.where(mask == 0, x0, x_t)

    def predict_x0_from_eps(self, x_t: Tensor, t: Tensor, eps: Tensor) -> Tensor:
        return (
            self.extract(self.sqrt_recip_alphas_cumprod, t, x_t) * x_t
            - self.extract(self.sqrt_recipm1_alphas_cumprod, t, x_t) * eps
        )

    def predict_eps_from_x0(self, x_t: Tensor, t: Tensor, x0: Tensor) -> Tensor:
        return (self.extract(self.sqrt_recip_alphas_cumprod, t, x_t) * x_t - x0) / self.extract(
            self.sqrt_recipm1_alphas_cumprod, t, x_t
        )

    def q_posterior_mean(self, x0: Tensor, x_t: Tensor, t: Tensor) -> Tensor:
        """Mean of ``q(x_{t-1} | x_t, x0)``; at ``t = 0`` it is ``x0`` itself (coef1 = 1, coef2 = 0)."""
        coef1 = self.extract(self.posterior_mean_coef1, t, x_t)
        return coef1 * x0 + self.extract(self.posterior_mean_coef2, t, x_t) * x_t

    # -- time -------------------------------------------------------------------------------

    def model_time(self, t: Tensor) -> Tensor:
        """``t * 1000 / T`` in float32, the arithmetic DiffuSeq's ``rescale_timesteps`` wrapper does."""
        return torch.as_tensor(t).float() * (1000.0 / self.num_timesteps)

    def sample_timesteps(
        self,
        batch: int,
        t_min: int,
        t_max: int,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
    ) -> Tensor:
        """Uniform integer timesteps in ``[t_min, t_max]``, both ends included."""
        if not 0 <= t_min <= t_max < self.num_timesteps:
            raise UserError(
                f"timestep range [t_min={t_min}, t_max={t_max}] must satisfy 0 <= t_min <= t_max <= "
                f"{self.num_timesteps - 1} for schedule '{self.name}' with {self.num_timesteps} steps"
            )
        if batch < 0:
            raise UserError(f"sample_timesteps: batch must be >= 0, got {batch}")
        draw_device = generator.device if generator is not None else torch.device(device)
        t = torch.randint(t_min, t_max + 1, (batch,), generator=generator, device=draw_device)
        return t.to(device)

    def snr(self, t: Tensor) -> Tensor:
        """Signal-to-noise ratio ``abar_t / (1 - abar_t)`` in float64 (on CPU when ``t`` is on MPS)."""
        t = torch.as_tensor(t)
        abar = self._on(self.alphas_cumprod, t.device)
        values = abar[t.to(abar.device).long()]
        return values / (1.0 - values)

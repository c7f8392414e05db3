"""psi's DSM loss is minimised by the true conditional mean E[x0 | x_t] on a toy Gaussian."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor, nn

from dlmkit.injectors.replace_condition import ReplaceCondition
from dlmkit.interfaces import DistillContext
from dlmkit.objectives.sid import Sid
from tests.test_objective_toys import T, sqrt_schedule


class ScaledPosteriorMean(nn.Module):
    """``mu + k * gain_t * (x_t - a_t mu)``: the exact Gaussian posterior mean when ``k = 1``."""

    def __init__(self, mu: float, sigma: float, k: float) -> None:
        super().__init__()
        self.mu, self.sigma, self.k = mu, sigma, k
        self.abar = sqrt_schedule().alphas_cumprod

    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        abar = self.abar[t].to(x_t.dtype)[:, None, None]
        a, s2 = abar.sqrt(), 1.0 - abar
        gain = a * self.sigma**2 / (abar * self.sigma**2 + s2)
        return self.mu + self.k * gain * (x_t - a * self.mu), x_t

    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        return self.denoise_with_features(x_t, t)[0]


def dsm_at(k: float, mu: float, sigma: float, t: int, seed: int) -> float:
    batch, length, dim = 512, 5, 4
    data = torch.Generator().manual_seed(seed)
    x0 = mu + sigma * torch.randn((batch, length, dim), generator=data, dtype=torch.float64)
    mask = (torch.arange(length) >= 1).long().expand(batch, length)
    psi = ScaledPosteriorMean(mu, sigma, k)
    ctx = DistillContext(
        teacher=psi,  # type: ignore[arg-type]
        psi=psi,  # type: ignore[arg-type]
        schedule=sqrt_schedule(),
        injector=ReplaceCondition(),
        mask=mask,
        x_gen=x0,
        x_real=x0,
        real_mask=mask,
        sample_t=lambda b: torch.full((b,), t),
        generator=torch.Generator().manual_seed(seed + 1),
    )
    return Sid().psi_loss(ctx).loss.item()


@given(
    mu=st.floats(-2.0, 2.0),
    sigma=st.floats(0.5, 2.0),
    t=st.one_of(st.just(0), st.integers(0, 1500)),
    seed=st.integers(0, 1000),
)
@settings(max_examples=15)
def test_the_posterior_mean_beats_scaled_versions_of_itself(mu: float, sigma: float, t: int, seed: int) -> None:
    best = dsm_at(1.0, mu, sigma, t, seed)
    assert best < dsm_at(0.7, mu, sigma, t, seed)
    assert best < dsm_at(1.3, mu, sigma, t, seed)
    assert best >= 0.0


def test_at_the_last_step_the_posterior_mean_is_the_prior_mean() -> None:
    # At t = T-1 the signal is gone (abar ~ 2e-7): any k gives ~mu, so the loss is ~ sigma^2 * N_m.
    loss = dsm_at(1.0, 0.3, 1.5, T - 1, 0)
    n_m = 4 * 4
    assert abs(loss / (1.5**2 * n_m) - 1.0) < 0.05

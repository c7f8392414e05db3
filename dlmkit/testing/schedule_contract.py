"""Contract checks any noise-schedule plugin can run in its own tests: ``check_schedule(schedule)``.

The checks are the facts every sampler and objective in dlmkit relies on; a schedule that
passes them can be swapped in without touching the rest.  Exhaustive checks cover every
timestep; the tensor identities are checked by hypothesis over drawn batches.
"""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.testing.strategies import DiffusionInputs, diffusion_inputs, timestep_ranges

_RTOL = 1e-9


def _close(a: torch.Tensor, b: torch.Tensor, what: str, rtol: float = _RTOL, atol: float = 1e-9) -> None:
    if not torch.allclose(a, b, rtol=rtol, atol=atol):
        worst = (a - b).abs().max().item()
        raise AssertionError(f"{what}: max abs difference {worst:.3g}")


def check_arrays(schedule: NoiseSchedule) -> None:
    """Exhaustive checks of the float64 arrays over all ``T`` timesteps."""
    assert isinstance(schedule, NoiseSchedule), "schedule does not satisfy dlmkit.interfaces.NoiseSchedule"
    T = schedule.num_timesteps
    assert T > 1, f"num_timesteps must be > 1, got {T}"
    for name in ("betas", "alphas_cumprod", "alphas_cumprod_prev", "posterior_variance"):
        array = getattr(schedule, name)
        assert array.dtype == torch.float64, f"{name} must be float64, got {array.dtype}"
        assert array.shape == (T,), f"{name} must have shape ({T},), got {tuple(array.shape)}"
        assert bool(torch.isfinite(array).all()), f"{name} has non-finite values"
    betas, abar = schedule.betas, schedule.alphas_cumprod
    assert bool((betas > 0).all()) and bool((betas <= 0.999).all()), "betas must lie in (0, 0.999]"
    assert bool((abar > 0).all()) and bool((abar <= 1).all()), "alphas_cumprod must lie in (0, 1]"
    assert bool((abar[1:] <= abar[:-1]).all()), "alphas_cumprod must not increase with t"
    _close(abar, torch.cumprod(1 - betas, 0), "alphas_cumprod != cumprod(1 - betas)")
    assert schedule.alphas_cumprod_prev[0].item() == 1.0, "alphas_cumprod_prev[0] must be 1"
    _close(schedule.alphas_cumprod_prev[1:], abar[:-1], "alphas_cumprod_prev must be abar shifted by one")
    snr = abar / (1 - abar)
    assert bool((snr[1:] <= snr[:-1]).all()), "SNR must not increase with t"

    coef1, coef2, variance = schedule.posterior_mean_coef1, schedule.posterior_mean_coef2, schedule.posterior_variance
    _close(coef1[:1], torch.ones(1, dtype=torch.float64), "posterior_mean_coef1[0] must be 1")
    _close(coef2[:1], torch.zeros(1, dtype=torch.float64), "posterior_mean_coef2[0] must be 0")
    _close(variance[:1], torch.zeros(1, dtype=torch.float64), "posterior_variance[0] must be 0")
    prev = schedule.alphas_cumprod_prev
    # With eps = 0 the posterior mean must land on the noiseless marginal mean at t-1 ...
    _close(coef1 + coef2 * abar.sqrt(), prev.sqrt(), "posterior mean of a noiseless x_t is not sqrt(abar_prev) x0")
    # ... and the law of total variance must give back the marginal variance at t-1.
    _close(coef2**2 * (1 - abar) + variance, 1 - prev, "posterior coefficients and variance are inconsistent")

    t_all = torch.arange(T)
    times = schedule.model_time(t_all)
    assert bool((times >= 0).all()) and bool((times < 1000).all()), "model_time must lie in [0, 1000)"
    assert bool((times[1:] > times[:-1]).all()), "model_time must increase with t"


def check_tensor_identities(schedule: NoiseSchedule, profile: settings | None = None) -> None:
    """Hypothesis-driven identities of ``q_sample``, the conversions and ``extract``."""
    T = schedule.num_timesteps

    @given(diffusion_inputs(T))
    def identities(data: DiffusionInputs) -> None:
        x0, noise, t, mask = data.x0, data.noise, data.t, data.mask
        x_t = schedule.q_sample(x0, t, noise)
        abar = schedule.alphas_cumprod[t].reshape(-1, 1, 1)
        _close(x_t, abar.sqrt() * x0 + (1 - abar).sqrt() * noise, "q_sample != sqrt(abar) x0 + sqrt(1-abar) eps")
        scale = 1.0 + x0.abs().max().item() + noise.abs().max().item()
        back = schedule.predict_x0_from_eps(x_t, t, noise)
        _close(back, x0, "predict_x0_from_eps(q_sample(x0, eps), eps) != x0", rtol=1e-7, atol=1e-8 * scale)
        eps = schedule.predict_eps_from_x0(x_t, t, x0)
        _close(eps, noise, "predict_eps_from_x0(q_sample(x0, eps), x0) != eps", rtol=1e-7, atol=1e-8 * scale)
        _close(schedule.predict_x0_from_eps(x_t, t, eps), x0, "eps/x0 conversions do not invert", 1e-7, 1e-8 * scale)

        masked = schedule.q_sample(x0, t, noise, mask)
        keep = (mask == 0).unsqueeze(-1).expand_as(x0)
        assert torch.equal(masked[keep], x0[keep]), "q_sample changed positions where mask == 0"
        assert torch.equal(masked[~keep], x_t[~keep]), "q_sample with a mask changed the noised positions"

        mean = schedule.q_posterior_mean(x0, x_t, t)
        at_zero = t == 0
        if bool(at_zero.any()):
            _close(mean[at_zero], x0[at_zero], "q_posterior_mean at t = 0 must be x0")

        for dtype in (torch.float32, torch.float64):
            like = x0.to(dtype)
            values = schedule.extract(schedule.alphas_cumprod, t, like)
            assert values.dtype == dtype, f"extract returned {values.dtype} for a {dtype} input"
            assert values.dim() == like.dim(), "extract must broadcast to the input's rank"
            assert torch.equal(values.flatten(), schedule.alphas_cumprod[t].to(dtype)), "extract picked wrong values"

    (profile(identities) if profile is not None else identities)()


def check_timestep_sampling(schedule: NoiseSchedule, profile: settings | None = None) -> None:
    """``sample_timesteps`` stays within its inclusive bounds and is reproducible from a seed."""
    T = schedule.num_timesteps

    @given(timestep_ranges(T), st.integers(1, 64), st.integers(0, 2**31 - 1))
    def sampling(bounds: tuple[int, int], batch: int, seed: int) -> None:
        t_min, t_max = bounds
        first = schedule.sample_timesteps(batch, t_min, t_max, torch.Generator().manual_seed(seed))
        again = schedule.sample_timesteps(batch, t_min, t_max, torch.Generator().manual_seed(seed))
        assert first.shape == (batch,), f"sample_timesteps returned shape {tuple(first.shape)}"
        assert not first.is_floating_point(), "sample_timesteps must return integer timesteps"
        assert bool((first >= t_min).all()) and bool((first <= t_max).all()), f"timesteps left [{t_min}, {t_max}]"
        assert torch.equal(first, again), "sample_timesteps is not reproducible from a seeded generator"

    (profile(sampling) if profile is not None else sampling)()
    # Both ends must be reachable: over a narrow range, every value turns up.
    hits = schedule.sample_timesteps(400, T - 3, T - 1, torch.Generator().manual_seed(0))
    assert set(hits.tolist()) == {T - 3, T - 2, T - 1}, "sample_timesteps does not include both bounds"


def check_schedule(schedule: NoiseSchedule, profile: settings | None = None) -> None:
    """Run every schedule contract check; raises ``AssertionError`` naming the broken property."""
    check_arrays(schedule)
    check_tensor_identities(schedule, profile)
    check_timestep_sampling(schedule, profile)

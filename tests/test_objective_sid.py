"""SiD: the generator loss against an independent implementation, and its fixed point psi == teacher."""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmkit.interfaces import DistillContext
from dlmkit.objectives.sid import Sid, SidParams
from tests.test_objective_toys import ContextMaker, MlpDenoiser, T

TIMESTEPS = st.one_of(st.sampled_from([0, T - 1]), st.integers(0, T - 1))
ALPHAS = st.sampled_from([0.5, 1.0, 1.2])


def reference_noised(ctx: DistillContext, x0: torch.Tensor, t: int, eps: torch.Tensor) -> torch.Tensor:
    """``a x0 + s eps`` on target positions, ``x0`` on the condition (written out, not via the schedule)."""
    abar = ctx.schedule.alphas_cumprod[t].item()
    noisy = abar**0.5 * x0 + (1.0 - abar) ** 0.5 * eps
    return torch.where(ctx.mask[..., None] == 1, noisy, x0)


def replay_eps(ctx: DistillContext, state: torch.Tensor) -> torch.Tensor:
    assert ctx.generator is not None
    ctx.generator.set_state(state)
    return torch.randn(ctx.x_gen.shape, generator=ctx.generator, dtype=ctx.x_gen.dtype)


@given(t=TIMESTEPS, alpha=ALPHAS, seed=st.integers(0, 1000))
@settings(max_examples=20)
def test_generator_loss_matches_the_spec_formula(t: int, alpha: float, seed: int) -> None:
    make = ContextMaker(seed=seed, t=t)
    ctx = make("generator")
    assert ctx.generator is not None
    state = ctx.generator.get_state()
    out = Sid(SidParams(alpha=alpha, lambda_g=3.0)).generator_loss(ctx)
    (grad,) = torch.autograd.grad(out.loss, make.theta)

    theta = make.theta.detach().clone().requires_grad_(True)
    x_g = make.injector.generated(theta, ctx.x_gen.detach(), ctx.mask)
    x_t = reference_noised(ctx, x_g, t, replay_eps(ctx, state))
    steps = torch.full((x_g.shape[0],), t)
    a, b = make.teacher.denoise(x_t, steps), make.psi.denoise(x_t, steps)
    m = ctx.mask[..., None].to(x_g.dtype)
    n_m = m.sum((1, 2)) * x_g.shape[-1]
    w = 1.0 / torch.clamp(((x_g - a).abs() * m).sum((1, 2)).detach() / n_m, min=1e-5)
    per_sample = w * ((a - b) * ((a - x_g) - alpha * (a - b)) * m).sum((1, 2))
    expected = 3.0 * per_sample.sum() / x_g.shape[0]
    (expected_grad,) = torch.autograd.grad(expected, theta)

    torch.testing.assert_close(out.loss, expected)
    torch.testing.assert_close(grad, expected_grad)
    assert float(out.terms["sid"]) == pytest.approx(
        float(out.terms["sid_gap"]) + float(out.terms["sid_cross"]), rel=1e-9, abs=1e-12
    )


@given(t=TIMESTEPS, alpha=ALPHAS, weighting=st.sampled_from(["sid_legacy", "one", "snr"]), seed=st.integers(0, 100))
@settings(max_examples=20)
def test_psi_equal_to_the_teacher_gives_no_generator_gradient(t: int, alpha: float, weighting: str, seed: int) -> None:
    teacher = MlpDenoiser(seed=seed)
    make = ContextMaker(teacher=teacher, psi=copy.deepcopy(teacher), seed=seed, t=t)
    out = Sid(SidParams(alpha=alpha, weighting=weighting)).generator_loss(make("generator"))  # type: ignore[arg-type]
    (grad,) = torch.autograd.grad(out.loss, make.theta)
    assert out.loss.item() == 0.0
    assert grad.abs().max().item() <= 1e-12


def test_a_different_psi_does_move_the_generator() -> None:
    make = ContextMaker(t=300)
    out = Sid().generator_loss(make("generator"))
    (grad,) = torch.autograd.grad(out.loss, make.theta)
    assert grad.abs().max().item() > 1e-6


@given(t=TIMESTEPS, weighting=st.sampled_from(["one", "snr", "snr_sqrt", "edm"]), seed=st.integers(0, 100))
@settings(max_examples=20)
def test_psi_loss_is_the_weighted_element_sum(t: int, weighting: str, seed: int) -> None:
    make = ContextMaker(seed=seed, t=t)
    ctx = make("psi")
    assert ctx.generator is not None
    state = ctx.generator.get_state()
    out = Sid(SidParams(dsm_weighting=weighting, lambda_psi=2.0, sigma_data=0.7)).psi_loss(ctx)  # type: ignore[arg-type]

    x_t = reference_noised(ctx, ctx.x_gen, t, replay_eps(ctx, state))
    pred = make.psi.denoise(x_t, torch.full((ctx.x_gen.shape[0],), t))
    abar = ctx.schedule.alphas_cumprod[t].item()
    snr = abar / (1 - abar)
    weight = {"one": 1.0, "snr": snr, "snr_sqrt": snr**0.5, "edm": snr + 1 / 0.7**2}[weighting]
    per_sample = ((pred - ctx.x_gen) ** 2 * ctx.mask[..., None]).sum((1, 2))
    expected = 2.0 * weight * per_sample.mean()
    torch.testing.assert_close(out.loss, expected)
    assert out.loss.requires_grad


def test_sid_defaults_follow_the_paper() -> None:
    params = SidParams()
    assert params.alpha == 1.2 and params.weighting == "sid_legacy" and params.dsm_weighting == "one"
    assert Sid().generator_every == 1 and Sid().uses_real_data is False

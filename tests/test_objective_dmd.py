"""DMD2: the surrogate's gradient is ``g / numel``, zero when psi equals the teacher; TTUR and the GAN switch."""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmkit.objectives.dmd import Dmd, DmdParams
from tests.test_objective_toys import ContextMaker, MlpDenoiser, Recorder, T

TIMESTEPS = st.one_of(st.sampled_from([0, T - 1]), st.integers(0, T - 1))


@given(t=TIMESTEPS, seed=st.integers(0, 100))
@settings(max_examples=20)
def test_gradient_is_the_normalised_score_gap_over_numel(t: int, seed: int) -> None:
    teacher, psi = Recorder(MlpDenoiser(seed=seed)), MlpDenoiser(seed=seed + 50)
    make = ContextMaker(teacher=teacher, psi=psi, seed=seed, t=t)
    ctx = make("generator")
    out = Dmd().generator_loss(ctx)
    (grad,) = torch.autograd.grad(out.loss, make.theta)

    (_, x_t, steps) = teacher.calls[0]
    x_g = ctx.x_gen.detach()
    a, b = teacher.inner.denoise(x_t, steps), psi.denoise(x_t, steps)
    m = ctx.mask[..., None].to(x_g.dtype)
    norm = ((x_g - a).abs() * m).sum((1, 2)) / (m.sum((1, 2)) * x_g.shape[-1])
    g = m * (b - a) / norm.clamp_min(1e-5)[:, None, None]
    torch.testing.assert_close(grad, g / x_g.numel())
    assert out.loss.item() == pytest.approx(0.5 * g.square().sum().item() / x_g.numel())


@given(t=TIMESTEPS, seed=st.integers(0, 100))
@settings(max_examples=20)
def test_psi_equal_to_the_teacher_gives_no_generator_gradient(t: int, seed: int) -> None:
    teacher = MlpDenoiser(seed=seed)
    make = ContextMaker(teacher=teacher, psi=copy.deepcopy(teacher), seed=seed, t=t)
    out = Dmd().generator_loss(make("generator"))
    (grad,) = torch.autograd.grad(out.loss, make.theta)
    assert grad.abs().max().item() == 0.0


def test_the_networks_run_without_a_graph() -> None:
    make = ContextMaker(t=100)
    out = Dmd().generator_loss(make("generator"))
    graph_inputs = [fn for fn in _walk(out.loss.grad_fn) if "Tanh" in type(fn).__name__]
    assert graph_inputs == []


def _walk(fn: object) -> list[object]:
    seen, stack = [], [fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.append(node)
        stack.extend(next_fn for next_fn, _ in getattr(node, "next_functions", ()))
    return seen


def test_two_time_scale_ratio_and_gan_switch() -> None:
    assert Dmd().generator_every == 5 and Dmd().uses_real_data is False
    assert Dmd(DmdParams(generator_every=10)).generator_every == 10
    with pytest.raises(ValueError, match="'generator_every' must be an integer >= 1"):
        DmdParams(generator_every=0)
    gan = Dmd(DmdParams(gan_weight_g=3e-3))
    assert gan.uses_real_data is True
    make = ContextMaker(t=200)
    psi_terms = gan.psi_loss(make("psi")).terms
    gen_terms = gan.generator_loss(make("generator")).terms
    assert {"dsm", "adv", "adv_bce_real", "adv_bce_fake"} <= set(psi_terms)
    assert {"dmd", "adv", "adv_bce"} <= set(gen_terms)


def test_gan_term_adds_to_the_distribution_matching_loss() -> None:
    make = ContextMaker(seed=4, t=700)
    plain = Dmd().generator_loss(make("generator"))
    with_gan = Dmd(DmdParams(gan_weight_g=0.25)).generator_loss(make("generator"))
    assert float(with_gan.terms["dmd"]) == pytest.approx(float(plain.terms["dmd"]))
    assert with_gan.loss.item() == pytest.approx(plain.loss.item() + 0.25 * float(with_gan.terms["adv"]))

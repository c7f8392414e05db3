"""TeacherContexts: distillation contexts around a real teacher, set up the way the distill stage sets them."""

from __future__ import annotations

from typing import Any

import torch

from dlmkit.testing import TeacherContexts, ToyTeacherParams, build_toy_teacher


def contexts(**kwargs: Any) -> TeacherContexts:
    torch.manual_seed(0)
    teacher = build_toy_teacher(ToyTeacherParams(embed_dim=8, hidden_size=16), vocab_size=30, seq_len=10)
    return TeacherContexts(teacher, **kwargs)


def test_networks_are_frozen_or_trained_as_in_the_distill_stage() -> None:
    make = contexts()
    assert make.psi is not None
    gen = make("generator")
    assert gen.x_gen.requires_grad and not make.psi.training and not make.teacher.training
    assert not any(p.requires_grad for p in (*make.psi.parameters(), *make.teacher.parameters()))
    psi = make("psi")
    assert not psi.x_gen.requires_grad and make.psi.training
    assert all(p.requires_grad for p in make.psi.parameters())
    assert not any(p.requires_grad for p in make.teacher.parameters())


def test_the_generator_sample_keeps_the_condition_and_reaches_theta() -> None:
    make = contexts(batch=4)
    ctx = make("generator")
    condition = (ctx.mask == 0).unsqueeze(-1).expand_as(ctx.x_gen)
    assert bool((ctx.mask[:, 0] == 0).all()) and bool((ctx.mask[:, -1] == 1).all())
    (grad,) = torch.autograd.grad(ctx.x_gen.sum(), make.theta)
    assert bool((grad[condition] == 0).all()) and bool((grad[~condition] == 1).all())
    assert ctx.x_gen.shape == ctx.x_real.shape == (4, 10, 8)
    assert torch.equal(ctx.x_real, make.teacher.embed(make.teacher.round(ctx.x_real)))  # real pairs are embeddings


def test_psi_starts_close_to_the_teacher_but_not_equal() -> None:
    make = contexts()
    assert make.psi is not None
    pairs = list(zip(make.teacher.parameters(), make.psi.parameters(), strict=True))
    assert all(not torch.equal(a, b) and torch.allclose(a, b, atol=0.2) for a, b in pairs)


def test_timesteps_stay_in_the_requested_range_and_batches_are_fresh() -> None:
    make = contexts(t_min=10, t_max=12)
    first, second = make("psi"), make("psi")
    t = first.sample_t(50)
    assert int(t.min()) >= 10 and int(t.max()) <= 12
    assert not torch.equal(first.x_gen, second.x_gen)

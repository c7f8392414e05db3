"""Every built-in objective passes the reusable contract, and the contract catches broken objectives."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from dlmkit.interfaces import DistillContext, LossOutput
from dlmkit.objectives import register_objectives
from dlmkit.objectives.dsm import dsm_loss
from dlmkit.objectives.psi_view import psi_view
from dlmkit.objectives.sid import Sid
from dlmkit.testing.objective_contract import ContractViolation, check_objective
from dlmkit.testing.toy_teacher import ToyTeacherParams, build_toy_teacher
from tests.test_objective_toys import LENGTH, VOCAB, ContextMaker


def registered() -> dict[str, tuple[Any, type]]:
    seen: dict[str, tuple[Any, type]] = {}

    def register(
        name: str, factory: Any, params: type | None = None, summary: str = "", override: bool = False
    ) -> None:
        assert params is not None
        seen[name] = (factory, params)

    register_objectives(register)
    return seen


OBJECTIVES = registered()


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_every_objective_passes_the_contract_on_an_mlp_denoiser(name: str) -> None:
    factory, params = OBJECTIVES[name]
    check_objective(factory(params()), ContextMaker())


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_every_objective_passes_the_contract_on_the_toy_transformer(name: str) -> None:
    factory, params = OBJECTIVES[name]
    torch.manual_seed(0)
    teacher = build_toy_teacher(ToyTeacherParams(embed_dim=4, hidden_size=8, num_heads=2), VOCAB, LENGTH)
    check_objective(factory(params()), ContextMaker(teacher=teacher, dtype=torch.float32))


class _Leaky(Sid):
    """Forgets to detach the generator sample on psi updates."""

    def psi_loss(self, ctx: DistillContext) -> LossOutput:
        out = super().psi_loss(ctx)
        return LossOutput(out.loss + ctx.x_gen.sum() * 0.0 + ctx.x_gen.square().mean(), out.terms)


class _OrderDependent(Sid):
    """Weights samples by their position in the batch."""

    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        out = super().generator_loss(ctx)
        first = ctx.x_gen[0].sum()
        return LossOutput(out.loss + first, out.terms)


class _NanAtTheEnd(Sid):
    """Divides by (1 - abar), which is fine except where the schedule ends."""

    def psi_loss(self, ctx: DistillContext) -> LossOutput:
        view = psi_view(ctx, discriminate=False)
        dsm = dsm_loss(view, ctx.schedule, "one", 0.5, per_element=False)
        bad = torch.where(view.t == ctx.schedule.num_timesteps - 1, torch.nan, 1.0).mean()
        return LossOutput(dsm.loss * bad, {})


class _StringTerms(Sid):
    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        return LossOutput(super().generator_loss(ctx).loss, {"sid": "high"})  # type: ignore[dict-item]


class _UnfreezesPsi(Sid):
    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        ctx.psi.requires_grad_(True)  # type: ignore[attr-defined]
        return super().generator_loss(ctx)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (_Leaky(), "sends gradients into x_gen"),
        (_OrderDependent(), "order of the batch"),
        (_NanAtTheEnd(), "not finite"),
        (_StringTerms(), "must be a float"),
        (_UnfreezesPsi(), "left gradients on the psi"),
    ],
)
def test_the_contract_catches_broken_objectives(broken: Sid, message: str) -> None:
    with pytest.raises(ContractViolation, match=message):
        check_objective(broken, ContextMaker())


def test_the_contract_rejects_a_generator_context_without_a_graph() -> None:
    def no_graph(update: str) -> DistillContext:
        ctx = ContextMaker()(update)
        ctx.x_gen = ctx.x_gen.detach()
        return ctx

    with pytest.raises(ContractViolation, match="requires grad"):
        check_objective(Sid(), no_graph)

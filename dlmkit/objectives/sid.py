"""Score identity Distillation (spec §6.1 generator loss, §6.2 fake-score loss).

The generator is pushed along the gap between the teacher's and psi's x0 predictions on its own
noised samples.  Gradients flow through both networks' activations (their parameters are frozen
by the trainer), which is what distinguishes SiD from DMD's stop-gradient surrogate.
"""

from __future__ import annotations

import attrs
from attrs import validators as v
from torch import Tensor

from dlmkit.interfaces.objective import DistillContext, LossOutput, Scalar
from dlmkit.objectives.dsm import dsm_loss
from dlmkit.objectives.finite import finite_sum
from dlmkit.objectives.generator_view import GeneratorView, generator_view
from dlmkit.objectives.instruments import psi_advantage
from dlmkit.objectives.masking import masked_mean, masked_sum
from dlmkit.objectives.params import finite_number, non_negative, positive, update_ratio
from dlmkit.objectives.psi_view import psi_view
from dlmkit.objectives.weighting import (
    GENERATOR_WEIGHTINGS,
    TIME_WEIGHTINGS,
    GeneratorWeighting,
    TimeWeighting,
    generator_weight,
)


@attrs.frozen
class SidParams:
    """``[stage.objective]`` keys of ``sid``.

    ``alpha`` is DLM-One's mu (1.2 in stage 1, 0.5 or 1.0 elsewhere in its Table 5).  ``weighting`` is
    the generator's ``w`` (``sid_legacy`` = SiD's ``1/mean_m|x_g - A|``); ``dsm_weighting`` is psi's
    ``lambda(t)``; ``sigma_data`` is only read by the ``edm`` weighting.  Losses are element sums over
    target positions divided by the batch, scaled by ``lambda_g`` / ``lambda_psi`` (official SiD:
    100 and 1).
    """

    alpha: float = attrs.field(default=1.2, validator=finite_number)
    weighting: GeneratorWeighting = attrs.field(default="sid_legacy", validator=v.in_(GENERATOR_WEIGHTINGS))
    dsm_weighting: TimeWeighting = attrs.field(default="one", validator=v.in_(TIME_WEIGHTINGS))
    sigma_data: float = attrs.field(default=0.5, validator=positive)
    lambda_g: float = attrs.field(default=1.0, validator=non_negative)
    """0 turns the generator's SiD term off: a control for a stage's regression term alone."""
    lambda_psi: float = attrs.field(default=1.0, validator=positive)
    generator_every: int = attrs.field(default=1, validator=update_ratio)
    """psi updates per generator update: 1 is SiD's; more keeps psi ahead of a student that moves (two time scales)."""


@attrs.frozen
class SidResult:
    """The SiD batch loss and its two parts, ``w (1-alpha) ||A-B||^2`` and ``w (A-B)^T (B-x_g)``."""

    loss: Tensor
    gap_term: Tensor
    cross_term: Tensor
    weight: Tensor
    teacher_gap: Tensor
    dropped: Tensor


def sid_generator_loss(view: GeneratorView, alpha: float, w: Tensor) -> SidResult:
    """``(1/B) sum_i w_i sum_m (A - B) * ((A - x_g) - alpha (A - B))``, from a view with A and B on the graph.

    Written as its two parts, ``(1-alpha)||A-B||^2 + (A-B)^T (B-x_g)``, so both can be logged.
    """
    if view.teacher_pred is None or view.psi_pred is None:
        raise ValueError("the SiD loss needs both the teacher's and psi's x0 predictions")
    a, b, x_g, m = view.teacher_pred, view.psi_pred, view.x_gen, view.weights
    diff = a - b
    gap = w * (1.0 - alpha) * masked_sum(diff.square(), m)
    cross = w * masked_sum(diff * (b - x_g), m)
    total, dropped = finite_sum(gap + cross)
    batch = x_g.shape[0]
    return SidResult(
        loss=total / batch,
        gap_term=gap.detach().sum().double() / batch,
        cross_term=cross.detach().sum().double() / batch,
        weight=w.mean().detach(),
        teacher_gap=masked_mean((x_g - a).detach().abs(), m).mean(),
        dropped=dropped,
    )


class Sid:
    """SiD alone: psi on DSM, the generator on the SiD loss after every ``generator_every`` psi updates."""

    uses_real_data = False
    uses_discriminator = False

    def __init__(self, params: SidParams | None = None) -> None:
        self.params = params or SidParams()
        self.generator_every = self.params.generator_every

    def psi_loss(self, ctx: DistillContext) -> LossOutput:
        p = self.params
        view = psi_view(ctx, discriminate=False)
        dsm = dsm_loss(view, ctx.schedule, p.dsm_weighting, p.sigma_data, per_element=False)
        loss = p.lambda_psi * dsm.loss
        terms: dict[str, Scalar] = {
            "loss": loss.detach(),
            "dsm": dsm.loss.detach(),
            "dsm_mse": dsm.mse,
            "t_mean": view.t.float().mean().detach(),
            "dropped": dsm.dropped,
        }
        return LossOutput(loss=loss, terms=terms)

    def generator_loss(self, ctx: DistillContext) -> LossOutput:
        p = self.params
        view = generator_view(ctx, teacher="graph", psi="graph")
        sid = sid_generator_loss(view, p.alpha, generator_weight(p.weighting, ctx.schedule, view, p.sigma_data))
        loss = p.lambda_g * sid.loss
        return LossOutput(loss=loss, terms={"loss": loss.detach(), **sid_terms(sid, view)})


def sid_terms(result: SidResult, view: GeneratorView) -> dict[str, Scalar]:
    """The generator-side SiD log entries."""
    return {
        "sid": result.loss.detach(),
        "sid_gap": result.gap_term,
        "sid_cross": result.cross_term,
        "sid_weight": result.weight,
        "teacher_gap": result.teacher_gap,
        "t_mean": view.t.float().mean().detach(),
        "dropped": result.dropped,
        **psi_advantage(view),
    }


def build_sid(params: SidParams) -> Sid:
    return Sid(params)

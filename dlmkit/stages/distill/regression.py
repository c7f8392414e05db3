"""The distill stage's optional regression term, and its default target: the teacher's deterministic DDIM.

Off by default (DLM-One has none).  On, every generator update computes a target from the very input
the student sees (the same noise at ``t_init``) for the first ``pairs`` sequences of the batch, and
adds ``weight`` times the squared distance of the student's output to it
(``dlmkit.objectives.regression``).  ``target = "teacher_path"`` (DMD's) is the end point of the
teacher's deterministic DDIM for ``steps`` steps, from the student's own input or, with ``t_start``, from
the same noise entered at another timestep (``T - 1``: DMD's pairs, the teacher's whole flow, for a
teacher whose chain from ``t_init`` is poor), unrounded unless ``rounded`` (DiffuSeq's per-step rounding,
which on the QQP teacher lifts the map's BLEU from 0.052 to 0.074), and with ``token_weight`` the rounded chain's
tokens are also a classification target for the student's output read through the teacher's logits (DiffuSeq's
rounding loss); ``"start_student"`` is the stage's own starting student (``dlmkit.stages.distill.start_anchor``).
"""

from __future__ import annotations

from typing import Literal, get_args

import attrs
import torch
from attrs import validators as v
from torch import Tensor

from dlmkit.errors import UserError
from dlmkit.injectors.positions import target_positions
from dlmkit.interfaces import Batch, NoiseSchedule, Scalar, Teacher
from dlmkit.nn.token_loss import token_cross_entropy
from dlmkit.objectives.masking import token_mean
from dlmkit.objectives.regression import regression_loss
from dlmkit.samplers.ddim import DDIMParams, DDIMSampler
from dlmkit.samplers.noise import ReplayNoise
from dlmkit.structuring import finite

RegressionTargetName = Literal["teacher_path", "start_student"]
REGRESSION_TARGETS: tuple[str, ...] = get_args(RegressionTargetName)


@attrs.frozen
class RegressionSpec:
    """``[stage.regression]``: weight 0 is off; what it regresses on; ``steps`` DDIM steps from ``t_start``
    (``teacher_path`` only; unset, ``t_init``); ``pairs`` per update."""

    weight: float = attrs.field(default=0.0, validator=[finite, v.ge(0.0)])
    target: RegressionTargetName = attrs.field(default="teacher_path", validator=v.in_(REGRESSION_TARGETS))
    steps: int = attrs.field(default=10, validator=[v.instance_of(int), v.ge(1)])
    pairs: int | None = attrs.field(default=None, validator=v.optional([v.instance_of(int), v.gt(0)]))
    """Sequences of each generator batch that get a target (the first ones); unset, all of them."""
    t_start: int | None = attrs.field(default=None, validator=v.optional([v.instance_of(int), v.ge(0)]))
    """Where the teacher's DDIM enters the student's noise: unset, ``t_init`` (the student's own input,
    ``q_sample(0, t_init, z)``); ``T - 1``, in effect ``z`` itself, the teacher's pure-noise start."""
    rounded: bool = attrs.field(default=False, validator=v.instance_of(bool))
    """Round each of the DDIM's x0 predictions to the nearest embedding (``teacher_path`` only): the target
    is then a sequence of embedding rows, the tokens DiffuSeq's own DDIM would write for that noise."""
    clamp_step: int = attrs.field(default=0, validator=[v.instance_of(int), v.ge(0)])
    """With ``rounded``, round only at the chain's timesteps ``t >= clamp_step`` (DiffuSeq's ``clamp_step``); 0
    rounds at every step.  Rounding the clean end makes the chain repeat words that the noisy end's rounding
    does not (QQP: 8.8% of adjacent words at every step, 4.4% at ``t >= 1000``)."""
    token_weight: float = attrs.field(default=0.0, validator=[finite, v.ge(0.0)])
    """Weight of the cross-entropy of the teacher's logits of the student's output against the tokens the
    rounded chain writes (``rounded`` only; 0 is off).  The squared distance alone does not say on which side
    of the boundary between the chain's row and a neighbour's an output lands; this term asks for the chain's side."""

    def __attrs_post_init__(self) -> None:
        rounded_chain = self.rounded and self.target == "teacher_path"
        if self.clamp_step > 0 and not rounded_chain:
            raise ValueError(
                f"'clamp_step' ({self.clamp_step}) limits the rounding of target = \"teacher_path\" with rounded = "
                "true; set rounded = true, or clamp_step = 0"
            )
        if self.token_weight > 0.0 and not rounded_chain:
            raise ValueError(
                f"'token_weight' ({self.token_weight}) needs target = \"teacher_path\" and rounded = true: only the "
                "rounded chain writes tokens to classify against; set token_weight = 0 or rounded = true"
            )


def steps_problem(spec: RegressionSpec, t_init: int, num_timesteps: int | None = None) -> str | None:
    """Why the DDIM cannot run from its start (more steps than timesteps down to 0, or a ``t_start`` past the
    schedule's last timestep, when ``num_timesteps`` is known); None if it can, is off or regresses on
    another target."""
    if spec.weight <= 0.0 or spec.target != "teacher_path":
        return None
    if spec.t_start is not None and num_timesteps is not None and spec.t_start >= num_timesteps:
        return (
            f"[stage.regression] t_start = {spec.t_start} is past the schedule's last timestep "
            f"{num_timesteps - 1}; set it to at most {num_timesteps - 1}, or leave it unset for t_init"
        )
    start, name = (t_init, "t_init") if spec.t_start is None else (spec.t_start, "t_start")
    if spec.steps > start + 1:
        return (
            f"[stage.regression] steps = {spec.steps} exceeds the {start + 1} timesteps from {name} {start} "
            f"down to 0; set steps to at most {start + 1}"
        )
    return None


def pair_count(spec: RegressionSpec, batch: int) -> int:
    """How many sequences of a generator batch of ``batch`` get a target (the first ones)."""
    return batch if spec.pairs is None else min(spec.pairs, batch)


def weighted_term(
    spec: RegressionSpec, x_gen: Tensor, target: Tensor, mask: Tensor
) -> tuple[Tensor, dict[str, Scalar]]:
    """``weight`` times the regression loss of the first ``len(target)`` outputs, and its unweighted value to log."""
    n = target.shape[0]
    loss = regression_loss(x_gen[:n], target, mask[:n])
    return spec.weight * loss, {"regression": loss.detach()}


class TeacherPathTarget:
    """The teacher's deterministic map from the student's noise, and the term it gives (not a Module)."""

    def __init__(self, spec: RegressionSpec, teacher: Teacher, schedule: NoiseSchedule, t_init: int):
        problem = steps_problem(spec, t_init, schedule.num_timesteps)
        if problem is not None:
            raise UserError(problem)
        self.spec, self.teacher, self.schedule = spec, teacher, schedule
        start = t_init if spec.t_start is None else spec.t_start
        self.ddim = DDIMSampler(
            DDIMParams(
                steps=spec.steps, eta=0.0, round_every_step=spec.rounded, t_start=start, clamp_step=spec.clamp_step
            )
        )

    def target(self, cond: Batch, z: Tensor) -> Tensor:
        """The teacher's DDIM end point ``[n, L, D]`` for the first ``n`` sequences, from their noise ``z``."""
        n = pair_count(self.spec, len(cond))
        return self.ddim.final_state(self.teacher, cond.slice(0, n), self.schedule, ReplayNoise(z[:n]))

    def term(self, cond: Batch, z: Tensor, x_gen: Tensor) -> tuple[Tensor, dict[str, Scalar]]:
        """``weight`` times the regression loss (plus ``token_weight`` times the token term), and each unweighted."""
        target = self.target(cond, z)
        loss, logged = weighted_term(self.spec, x_gen, target, cond.input_mask)
        if self.spec.token_weight > 0.0:
            n = target.shape[0]
            ce, agree = token_term(self.teacher, x_gen[:n], target, cond.input_mask[:n])
            loss = loss + self.spec.token_weight * ce
            logged.update(regression_tokens=ce.detach(), regression_token_match=agree)
        return loss, logged


def token_term(teacher: Teacher, x_gen: Tensor, target: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Mean cross-entropy over target tokens of ``teacher.logits(x_gen)`` against the tokens the target decodes
    to (fp32, 0-d), and the share of target tokens the output already decodes to."""
    with torch.no_grad():
        ids = teacher.logits(target.float()).argmax(dim=-1)
    logits = teacher.logits(x_gen.float())
    tokens = target_positions(mask, x_gen)[..., 0].float()
    ce = token_cross_entropy(logits, ids)
    agree = (logits.detach().argmax(dim=-1) == ids).float()
    return token_mean(ce, tokens).mean(), token_mean(agree, tokens).mean()

"""One distillation update: draw the data and noise, ask the objective for a loss, step one network.

The objective decides the losses; this module only draws, backpropagates, guards against
non-finite steps and steps the optimiser of psi or of the generator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from dlmkit.engine.context import RunContext
from dlmkit.engine.finite_step import NonFiniteGuard, step_is_finite
from dlmkit.injectors.positions import target_positions
from dlmkit.interfaces import (
    Batch,
    ConditioningInjector,
    DistillContext,
    NoiseSchedule,
    Objective,
    OneStepGenerator,
    Scalar,
    Teacher,
)
from dlmkit.interfaces.teacher import as_module
from dlmkit.objectives.discriminator import DiscriminatorHead
from dlmkit.objectives.instruments import output_scale, scale_excess
from dlmkit.objectives.time_law import draw_stage_timesteps
from dlmkit.stages.distill.generator_term import GeneratorTerm
from dlmkit.stages.distill.state import DistillState
from dlmkit.stages.lr_anneal import factor_at, set_rates

if TYPE_CHECKING:
    from dlmkit.stages.distill.params import DistillParams


class PsiStep(torch.nn.Module):
    """psi's loss as a module: the unit DistributedDataParallel wraps for psi updates (head included)."""

    def __init__(self, psi: Teacher, head: DiscriminatorHead | None, objective: Objective):
        super().__init__()
        self.psi = as_module(psi)
        self.head = head
        self.objective = objective

    def forward(self, ctx: DistillContext) -> tuple[Tensor, dict[str, Scalar]]:
        out = self.objective.psi_loss(ctx)
        return out.loss, out.terms


class StudentGenerator:
    """The student through the recipe's one-step path (its ``[sampler]``), with the stage's injector."""

    def __init__(
        self,
        student: Teacher,
        sampler: OneStepGenerator,
        schedule: NoiseSchedule,
        injector: ConditioningInjector,
    ):
        self.student, self.sampler, self.schedule, self.injector = student, sampler, schedule, injector

    def __call__(self, cond: Batch, z: Tensor) -> Tensor:
        return self.sampler.generate(self.student, cond, self.schedule, z, self.injector)


class GeneratorStep(torch.nn.Module):
    """The generator's forward and loss as a module, so DDP syncs the student's gradients.

    Only the student is a sub-module: the teacher and psi are frozen here and stay outside DDP.
    """

    def __init__(
        self,
        student: Teacher,
        generator: StudentGenerator,
        objective: Objective,
        scale_penalty: float = 0.0,
        terms: Sequence[GeneratorTerm] = (),
    ):
        super().__init__()
        self.student = as_module(student)
        self.objective = objective
        self.generator = generator  # not a Module: the student is registered once, above
        self.scale_penalty = scale_penalty
        self.terms = list(terms)  # not Modules either: they hold frozen networks

    def forward(
        self, cond: Batch, z: Tensor, make_context: Callable[[Batch, Tensor], DistillContext]
    ) -> tuple[Tensor, dict[str, Scalar]]:
        x_gen = self.generator(cond, z)
        out = self.objective.generator_loss(make_context(cond, x_gen))
        table = self.generator.student.embedding_weight
        tokens = target_positions(cond.input_mask, x_gen)[..., 0].to(x_gen.dtype)
        terms = {**out.terms, **output_scale(x_gen, tokens, table)}
        loss = out.loss
        if self.scale_penalty > 0.0:
            excess = scale_excess(x_gen, tokens, table)
            loss = loss + self.scale_penalty * excess
            terms["scale_excess"] = excess.detach()
        for extra in self.terms:
            term, logged = extra.term(cond, z, x_gen)
            loss = loss + term
            terms.update(logged)
        return loss, terms


def _set_requires_grad(params: list[torch.nn.Parameter], flag: bool) -> None:
    for p in params:
        p.requires_grad_(flag)


class DistillUpdate:
    """psi and generator updates on a ``DistillState``, with the guard that counts skipped (non-finite) ones."""

    def __init__(
        self,
        ctx: RunContext,
        name: str,
        stage: DistillParams,
        state: DistillState,
        objective: Objective,
        generator: StudentGenerator,
        ckpt_dir: Path,
        terms: Sequence[GeneratorTerm] = (),
    ):
        self.ctx, self.name, self.stage, self.state, self.objective = ctx, name, stage, state, objective
        self.generator = generator
        self.device = ctx.runtime.device
        self.world = world = ctx.runtime.world
        self.lo, self.hi = world.shard(stage.batch_size, f'[[stage]] "{name}" batch_size')
        self.psi_step = world.wrap(PsiStep(state.psi, state.head, objective), self.device)
        self.generator_step = world.wrap(
            GeneratorStep(state.student, generator, objective, stage.scale_penalty, terms), self.device
        )
        self.train = ctx.dataset.split("train")
        self.guard = NonFiniteGuard(
            name,
            stage.max_bad_steps,
            ckpt_dir,
            "lower the learning rates or set max_grad_norm, then resume with --resume",
        )
        self.generator_updates = 0  # finite ones: a stage that never made one has trained nothing
        self.steps_done = 0

    # -- draws ------------------------------------------------------------------------------
    def pick(self) -> Batch:
        """This rank's slice of a global batch drawn with replacement from the training pairs."""
        index = torch.randint(0, len(self.train), (self.stage.batch_size,), generator=self.state.rng)
        index = index[self.lo : self.hi]
        return Batch(self.train.input_ids[index], self.train.input_mask[index]).to(self.device)

    def sample_t(self, batch: int) -> Tensor:
        s = self.stage
        return draw_stage_timesteps(
            s.time_law, self.ctx.schedule, batch, s.t_min, s.t_max, self.state.objective_rng, self.device
        )

    def context(self, cond: Batch, x_gen: Tensor) -> DistillContext:
        # real pairs: an independent draw (SiDA's, DMD2's), or the true targets of the same sources, so the
        # discriminator compares a generated answer with a real one for one condition
        independent = self.objective.uses_real_data and self.stage.real_pairs == "independent"
        real = self.pick() if independent else cond
        teacher = self.state.teacher
        with torch.no_grad():
            x_real = teacher.embed(real.input_ids)
        return DistillContext(
            teacher=teacher,
            psi=self.state.psi,
            schedule=self.ctx.schedule,
            injector=self.ctx.injector,
            mask=cond.input_mask,
            x_gen=x_gen,
            x_real=x_real,
            real_mask=real.input_mask,
            sample_t=self.sample_t,
            generator=self.state.objective_rng,
            discriminator=self.state.head,
            fp32_scores=self.stage.fp32_scores,
        )

    def draw(self) -> tuple[Batch, Tensor]:
        """Conditions and generator noise: a global draw, sliced for this rank."""
        cond = self.pick()
        shape = (self.stage.batch_size, *cond.input_ids.shape[1:], self.state.teacher.embed_dim)
        z = torch.randn(shape, generator=self.state.rng)[self.lo : self.hi].to(self.device)
        return cond, z

    # -- the update -------------------------------------------------------------------------
    def update(self, which: str) -> dict[str, float] | None:
        """One psi or generator update; ``None`` when the step was skipped as non-finite."""
        s = self.state
        is_psi = which == "psi"
        if is_psi and not s.psi_params:
            return {}  # psi with nothing to train (a copy of an analytic teacher) stays the teacher: a null control
        params, opt = (s.psi_params, s.opt_psi) if is_psi else (s.student_params, s.opt_g)
        spec = self.stage.optim.psi if is_psi else self.stage.optim.generator
        s.psi.train(is_psi)
        s.student.train(not is_psi)
        _set_requires_grad(s.psi_params, is_psi)
        opt.zero_grad(set_to_none=True)
        cond, z = self.draw()
        with self.ctx.runtime.autocast():
            if is_psi:
                with torch.no_grad():
                    x_gen = self.generator(cond, z)
                loss, terms = self.psi_step(self.context(cond, x_gen.detach()))
            else:
                loss, terms = self.generator_step(cond, z, self.context)
        loss = loss.float()
        value = loss.detach()
        if self.world.all_true(bool(torch.isfinite(loss))):  # every rank backpropagates, or none does
            loss.backward()
        if not step_is_finite(loss, params):
            opt.zero_grad(set_to_none=True)
            self.guard.failed(which, f"{which} updates", self.steps_done)
            return None
        if spec.clip_grad_value is not None:
            torch.nn.utils.clip_grad_value_(params, spec.clip_grad_value)
        if self.stage.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, self.stage.max_grad_norm)
        if spec.lr_final is not None:
            set_rates(opt, s.base_lrs[which], factor_at(spec.lr, spec.lr_final, self.steps_done, self.stage.steps))
        opt.step()
        self.guard.passed(which)
        self.generator_updates += not is_psi
        prefix = "psi" if is_psi else "g"
        return {f"{prefix}_loss": value, **{f"{prefix}_{k}": v for k, v in terms.items()}}

    def state_dict(self) -> dict[str, Any]:
        return {
            "bad_in_row": {"psi": 0, "generator": 0, **self.guard.in_row},
            "skipped": self.guard.skipped,
            "generator_updates": self.generator_updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps_done = int(state["step"])
        self.guard.in_row = {k: int(v) for k, v in state["bad_in_row"].items()}
        self.guard.skipped = int(state["skipped"])
        fallback = max(0, self.steps_done - self.stage.psi_warmup_steps)  # checkpoints written before the count
        self.generator_updates = int(state.get("generator_updates", fallback))

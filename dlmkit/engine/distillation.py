"""The ``distill`` stage: DLM-One's alternating psi / generator updates with any registered objective."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import torch
from torch import Tensor

from dlmkit.engine.checkpoint import (
    agreed_resume_checkpoint,
    latest_checkpoint,
    load_module,
    read_checkpoint,
    restoring,
    rng_state,
    save_module,
    set_rng_state,
    write_checkpoint,
)
from dlmkit.engine.components import build_named
from dlmkit.engine.context import RunContext, StageResult
from dlmkit.engine.ema import EMA
from dlmkit.engine.finite_step import step_is_finite
from dlmkit.engine.generation import degeneration, generate, score
from dlmkit.engine.generator import OneStepGenerator
from dlmkit.engine.progress import StageProgress
from dlmkit.engine.teacher_files import load_teacher, save_teacher
from dlmkit.engine.teacher_likelihood import teacher_denoising_error
from dlmkit.engine.teacher_training import stage_seed
from dlmkit.errors import TrainingDiverged, UserError
from dlmkit.interfaces import Batch, DistillContext, Metric, Objective, Teacher
from dlmkit.interfaces.teacher import as_module
from dlmkit.objectives.discriminator import HEAD_FILE, DiscriminatorHead, feature_width
from dlmkit.plugins import get_registry
from dlmkit.recipe.stages import DistillStage, OptimSpec


def _optimizer(
    params: list[torch.nn.Parameter],
    spec: OptimSpec,
    extra: list[torch.nn.Parameter] | None = None,
    extra_lr: float | None = None,
) -> torch.optim.Optimizer:
    """AdamW per ``spec``; ``extra`` parameters (psi's discriminator head) get ``extra_lr`` in their own group."""
    groups: list[dict[str, Any]] = [{"params": params}]
    if extra:
        groups.append({"params": list(extra), "lr": spec.lr if extra_lr is None else extra_lr})
    return torch.optim.AdamW(
        groups, lr=spec.lr, betas=(spec.betas[0], spec.betas[1]), eps=spec.eps, weight_decay=spec.weight_decay
    )


def _trainable(module: Teacher) -> list[torch.nn.Parameter]:
    """Every parameter except the embedding table, which stays the teacher's (frozen) throughout."""
    frozen = module.embedding_weight
    frozen.requires_grad_(False)
    return [p for p in module.parameters() if p is not frozen and p.requires_grad]


def _set_requires_grad(params: list[torch.nn.Parameter], flag: bool) -> None:
    for p in params:
        p.requires_grad_(flag)


def _copy_of(teacher: Teacher, weights: Path | None) -> Teacher:
    net = copy.deepcopy(teacher)
    if weights is not None:
        net.load_state_dict(load_teacher(weights).state_dict())
    for p in net.parameters():
        p.requires_grad_(True)
    return net


class PsiStep(torch.nn.Module):
    """psi's loss as a module: the unit DistributedDataParallel wraps for psi updates (head included)."""

    def __init__(self, psi: Teacher, head: DiscriminatorHead, objective: Objective):
        super().__init__()
        self.psi = as_module(psi)
        self.head = head
        self.objective = objective

    def forward(self, ctx: DistillContext) -> tuple[Tensor, dict[str, float]]:
        out = self.objective.psi_loss(ctx)
        return out.loss, out.terms


class GeneratorStep(torch.nn.Module):
    """The generator's forward and loss as a module, so DDP syncs the student's gradients.

    Only the student is a sub-module: the teacher and psi are frozen here and stay outside DDP.
    """

    def __init__(self, student: Teacher, generator: OneStepGenerator, objective: Objective):
        super().__init__()
        self.student = as_module(student)
        self.objective = objective
        self.generator = generator  # not a Module: the student is registered once, above

    def forward(
        self, cond: Batch, z: Tensor, make_context: Callable[[Batch, Tensor], DistillContext]
    ) -> tuple[Tensor, dict[str, float]]:
        x_gen, _ = self.generator(cond.input_ids, cond.input_mask, z)
        out = self.objective.generator_loss(make_context(cond, x_gen))
        return out.loss, out.terms


class Distiller:
    """One distillation stage; the objective decides the losses, this class only runs the updates."""

    def __init__(self, ctx: RunContext, stage: DistillStage):
        if ctx.teacher is None:
            raise UserError(f'[[stage]] "{stage.name}": no teacher; set [teacher] checkpoint or train one first')
        if stage.t_max >= ctx.schedule.num_timesteps or stage.t_init >= ctx.schedule.num_timesteps:
            raise UserError(
                f'[[stage]] "{stage.name}": t_max ({stage.t_max}) and t_init ({stage.t_init}) must be below the '
                f"schedule's num_timesteps ({ctx.schedule.num_timesteps})"
            )
        self.ctx = ctx
        self.stage = stage
        self.device = ctx.runtime.device
        entry = get_registry().get("objective", stage.objective.name)
        self.objective: Objective = entry.factory(stage.objective.params)
        self.teacher = ctx.teacher
        self.teacher.to(self.device).eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        init = ctx.results[stage.init_student] if stage.init_student != "teacher" else None
        self.student = _copy_of(self.teacher, init.student if init else None).to(self.device)
        psi_from = init.psi if (init is not None and stage.init_psi == "previous") else None
        self.psi = _copy_of(self.teacher, psi_from).to(self.device)
        # psi's discriminator head is part of psi: fresh with a fresh psi, carried over with psi otherwise
        width = feature_width(self.psi, self.teacher.seq_len, self.teacher.embed_dim, self.device)
        self.head = DiscriminatorHead(width).to(self.device)
        if psi_from is not None and (psi_from.parent / HEAD_FILE).exists():
            load_module(self.head, psi_from.parent / HEAD_FILE)
        self.student_params = _trainable(self.student)
        psi_trunk, head_params = _trainable(self.psi), list(self.head.parameters())
        self.psi_params = [*psi_trunk, *head_params]
        self.opt_g = _optimizer(self.student_params, stage.optim.generator)
        self.opt_psi = _optimizer(psi_trunk, stage.optim.psi, head_params, stage.optim.head_lr)
        self.ema = EMA(as_module(self.student), stage.ema_decay) if stage.ema_decay > 0 else None
        self.generator = OneStepGenerator(self.student, ctx.schedule, ctx.injector, stage.t_init)
        seed = stage_seed(ctx.recipe.header.seed, stage.name)
        world = ctx.runtime.world
        self.world = world
        self.lo, self.hi = world.shard(stage.batch_size, f'[[stage]] "{stage.name}" batch_size')
        self.rng = torch.Generator().manual_seed(seed)  # shared by all ranks: data and generator noise
        # the objective's own draws (timesteps, noise) differ per rank; one process uses a single stream
        self.objective_rng = (
            self.rng if not world.distributed else torch.Generator().manual_seed(seed + 7919 * world.rank)
        )
        self.psi_step = world.wrap(PsiStep(self.psi, self.head, self.objective), self.device)
        self.generator_step = world.wrap(GeneratorStep(self.student, self.generator, self.objective), self.device)
        self.train = ctx.dataset.split("train")
        self.out_dir = ctx.stage_dir(stage.name)
        self.ckpt_dir = self.out_dir / "ckpt"
        self.best_dir = self.out_dir / "best"
        self.best_score = -math.inf
        self.bad_in_row = {"psi": 0, "generator": 0}
        self.skipped = 0
        self.generator_updates = 0  # finite ones: a stage that never made one has trained nothing
        self.step = 0
        self.val_sampler = build_named("sampler", "one_step", t_init=stage.t_init)
        self.val_metric: Metric = build_named("metric", stage.val_metric)
        self.val_sign = 1.0 if self.val_metric.higher_is_better else -1.0

    # -- data -------------------------------------------------------------------------------
    def pick(self) -> Batch:
        """This rank's slice of a global batch drawn with replacement from the training pairs."""
        index = torch.randint(0, len(self.train), (self.stage.batch_size,), generator=self.rng)[self.lo : self.hi]
        return Batch(self.train.input_ids[index], self.train.input_mask[index]).to(self.device)

    def sample_t(self, batch: int) -> Tensor:
        return self.ctx.schedule.sample_timesteps(
            batch, self.stage.t_min, self.stage.t_max, generator=self.objective_rng, device=self.device
        )

    def context(self, cond: Batch, x_gen: Tensor) -> DistillContext:
        real = self.pick() if self.objective.uses_real_data else cond
        with torch.no_grad():
            x_real = self.teacher.embed(real.input_ids)
        return DistillContext(
            teacher=self.teacher,
            psi=self.psi,
            schedule=self.ctx.schedule,
            injector=self.ctx.injector,
            mask=cond.input_mask,
            x_gen=x_gen,
            x_real=x_real,
            real_mask=real.input_mask,
            sample_t=self.sample_t,
            generator=self.objective_rng,
            discriminator=self.head,
            fp32_scores=self.stage.fp32_scores,
        )

    def draw(self) -> tuple[Batch, Tensor]:
        """Conditions and generator noise: a global draw, sliced for this rank."""
        cond = self.pick()
        shape = (self.stage.batch_size, *cond.input_ids.shape[1:], self.teacher.embed_dim)
        z = torch.randn(shape, generator=self.rng)[self.lo : self.hi].to(self.device)
        return cond, z

    # -- updates ----------------------------------------------------------------------------
    def update(self, which: str) -> dict[str, float] | None:
        """One psi or generator update; ``None`` when the step was skipped as non-finite."""
        is_psi = which == "psi"
        params, opt = (self.psi_params, self.opt_psi) if is_psi else (self.student_params, self.opt_g)
        spec = self.stage.optim.psi if is_psi else self.stage.optim.generator
        self.psi.train(is_psi)
        self.student.train(not is_psi)
        _set_requires_grad(self.psi_params, is_psi)
        opt.zero_grad(set_to_none=True)
        cond, z = self.draw()
        with self.ctx.runtime.autocast():
            if is_psi:
                with torch.no_grad():
                    x_gen, _ = self.generator(cond.input_ids, cond.input_mask, z)
                loss, terms = self.psi_step(self.context(cond, x_gen.detach()))
            else:
                loss, terms = self.generator_step(cond, z, self.context)
        loss = loss.float()
        value = float(loss.detach())
        if self.world.all_true(bool(torch.isfinite(loss))):  # every rank backpropagates, or none does
            loss.backward()
        if not step_is_finite(loss, params):
            opt.zero_grad(set_to_none=True)
            self.skipped += 1
            self.bad_in_row[which] += 1
            if self.bad_in_row[which] >= self.stage.max_bad_steps:
                last = latest_checkpoint(self.ckpt_dir)
                raise TrainingDiverged(
                    f'[[stage]] "{self.stage.name}": {self.bad_in_row[which]} non-finite {which} updates in a row '
                    f"at step {self.step}; last good checkpoint: {last or 'none (stage start)'}; "
                    "lower the learning rates or set max_grad_norm, then resume with --resume"
                )
            return None
        if spec.clip_grad_value is not None:
            torch.nn.utils.clip_grad_value_(params, spec.clip_grad_value)
        if self.stage.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, self.stage.max_grad_norm)
        opt.step()
        self.bad_in_row[which] = 0
        self.generator_updates += not is_psi
        prefix = "psi" if is_psi else "g"
        return {f"{prefix}_loss": value, **{f"{prefix}_{k}": float(v) for k, v in terms.items()}}

    # -- validation, checkpoints ------------------------------------------------------------
    def eval_model(self) -> Teacher:
        return cast(Teacher, self.ema.shadow) if self.ema is not None else self.student

    def validate(self) -> dict[str, float]:
        split = "valid" if self.ctx.dataset.has_split("valid") else "train"
        data = self.ctx.dataset.split(split)
        data = data.slice(0, self.stage.eval_samples)
        model = self.eval_model()
        was = model.training
        model.eval()
        out = generate(model, self.val_sampler, self.ctx.schedule, self.ctx.dataset, data, 256, 0, self.device)
        teacher_error = teacher_denoising_error(
            self.teacher, model, self.ctx.schedule, self.ctx.injector, self.stage.t_init, data.slice(0, 64), self.device
        )
        model.train(was)
        tok = self.ctx.dataset.tokenizer
        signals = degeneration(out.ids, data.input_mask, tok.pad_id, {tok.pad_id, tok.cls_id, tok.sep_id})
        name = self.stage.val_metric
        value = score(out.rows, {name: self.val_metric})[name]
        if self.val_sign * value > self.best_score:
            self.best_score = self.val_sign * value
            self.save_best()
        best = self.val_sign * self.best_score
        return {f"val_{name}": value, f"best_val_{name}": best, "val_teacher_error": teacher_error, **signals}

    def save_best(self) -> None:
        meta = {"stage": self.stage.name, "step": str(self.step)}
        save_teacher(self.eval_model(), self.best_dir / "student.safetensors", meta)
        save_teacher(self.psi, self.best_dir / "psi.safetensors", meta)
        save_module(self.head, self.best_dir / HEAD_FILE, meta)

    def modules(self) -> dict[str, torch.nn.Module]:
        modules: dict[str, torch.nn.Module] = {
            "student": as_module(self.student),
            "psi": as_module(self.psi),
            "disc_head": self.head,
        }
        if self.ema is not None:
            modules["ema"] = self.ema.shadow
        return modules

    def save(self) -> None:
        if not self.world.is_main:
            return
        state = {
            "step": self.step,
            "opt_g": self.opt_g.state_dict(),
            "opt_psi": self.opt_psi.state_dict(),
            "generator": self.rng.get_state(),
            "rng": rng_state(),
            "best_score": self.best_score,
            "bad_in_row": self.bad_in_row,
            "skipped": self.skipped,
            "generator_updates": self.generator_updates,
        }
        write_checkpoint(self.ckpt_dir, self.step, self.modules(), state, {"stage": self.stage.name, "kind": "distill"})

    def restore(self) -> None:
        latest = agreed_resume_checkpoint(self.world, self.ckpt_dir, self.stage.name)
        if latest is None:
            return
        with restoring(latest):
            state = read_checkpoint(latest, self.modules())
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_psi.load_state_dict(state["opt_psi"])
            self.rng.set_state(state["generator"])
            set_rng_state(state["rng"])
            self.step = int(state["step"])
            self.best_score = float(state["best_score"] if "best_score" in state else state["best_bleu"])
            self.bad_in_row = {k: int(v) for k, v in state["bad_in_row"].items()}
            self.skipped = int(state["skipped"])
            fallback = max(0, self.step - self.stage.psi_warmup_steps)  # checkpoints written before the count
            self.generator_updates = int(state.get("generator_updates", fallback))

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> StageResult:
        with self.ctx.runtime.compiled(self.teacher, self.student, self.psi):
            return self._run()

    def _run(self) -> StageResult:
        stage = self.stage
        if self.ctx.resume:
            self.restore()
        deadline = time.monotonic() + stage.max_minutes * 60 if stage.max_minutes else math.inf
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        t_last, step_last = time.perf_counter(), self.step
        main = self.world.is_main
        with StageProgress(
            stage.name, stage.steps, self.ctx.metrics_log, self.ctx.progress_mode, self.step, main
        ) as progress:
            progress.note(
                f"distilling with '{stage.objective.name}' for {stage.steps} steps, batch {stage.batch_size}, "
                f"t in [{stage.t_min}, {stage.t_max}], t_init {stage.t_init}"
            )
            if self.step == 0 and stage.eval_every and main:
                progress.log(0, self.validate())
            while self.step < stage.steps:
                results = [self.update("psi") for _ in range(self.objective.generator_every)]
                # A psi fresh from the teacher gives no SiD signal and an untrained discriminator, so the
                # generator waits while psi catches up with it (SiDA holds G for its first 100k images).
                if self.step >= stage.psi_warmup_steps:
                    results.append(self.update("generator"))
                    if self.ema is not None:
                        self.ema.update(as_module(self.student))
                self.step += 1
                progress.advance(self.step)
                for terms in results:
                    for key, value in (terms or {}).items():
                        sums[key] = sums.get(key, 0.0) + value
                        counts[key] = counts.get(key, 0) + 1
                if self.step % stage.log_every == 0 or self.step == stage.steps:
                    now = time.perf_counter()
                    metrics = self.world.mean({k: sums[k] / counts[k] for k in sums})
                    metrics["steps_per_s"] = (self.step - step_last) / max(1e-9, now - t_last)
                    metrics["skipped_steps"] = float(self.skipped)
                    progress.log(self.step, metrics)
                    sums, counts, t_last, step_last = {}, {}, now, self.step
                if stage.eval_every and self.step % stage.eval_every == 0 and main:
                    progress.log(self.step, self.validate())
                if stage.ckpt_every and self.step % stage.ckpt_every == 0:
                    self.save()
                if self.world.broadcast_object(time.monotonic() > deadline and self.step < stage.steps):
                    self.save()
                    progress.note(
                        f"stopped after {stage.max_minutes} minutes at step {self.step}; continue with --resume"
                    )
                    return StageResult(summary={"steps": self.step, "complete": False})
            if self.step > stage.psi_warmup_steps and self.generator_updates == 0:
                raise TrainingDiverged(
                    f'[[stage]] "{stage.name}": all {self.step - stage.psi_warmup_steps} generator updates were '
                    f"non-finite ({self.skipped} skipped updates in all), so the student never trained; "
                    "lower the learning rates or set max_grad_norm"
                )
            if main and (not stage.eval_every or self.step % stage.eval_every != 0):
                progress.log(self.step, self.validate())
            self.save()
            self.world.barrier()
        return StageResult(
            student=self.best_dir / "student.safetensors",
            psi=self.best_dir / "psi.safetensors",
            summary={
                "steps": self.step,
                f"best_val_{stage.val_metric}": self.val_sign * self.best_score,
                "skipped_steps": self.skipped,
                "complete": True,
            },
        )


def run_distillation(ctx: RunContext, stage: DistillStage) -> StageResult:
    return Distiller(ctx, stage).run()

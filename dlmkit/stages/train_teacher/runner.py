"""Teacher training as a step runner: any registered loss and timestep sampler, AdamW, EMA.

Every rank draws the same global batch, timesteps and noise and trains on its contiguous slice, so
N processes take the same steps as one process with the same global batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import Tensor

from dlmkit.engine.batches import EpochBatches
from dlmkit.engine.context import RunContext
from dlmkit.engine.ema import EMA
from dlmkit.engine.finite_step import NonFiniteGuard, step_is_finite
from dlmkit.engine.lr_schedules import lr_factor
from dlmkit.engine.step_loop import LoopSettings, RunningMeans, run_steps
from dlmkit.errors import UserError
from dlmkit.interfaces import Batch, NoiseSchedule, StageResult, Teacher, TeacherLoss, TimestepSampler
from dlmkit.interfaces.stage import TEACHER_ARTIFACT
from dlmkit.interfaces.teacher import as_module
from dlmkit.plugins import build
from dlmkit.randomness import randint, randn, stage_seed
from dlmkit.storage.checkpoint import load_module
from dlmkit.storage.teacher_files import TEACHER_FILE, save_teacher

if TYPE_CHECKING:
    from dlmkit.stages.train_teacher.params import TrainTeacherParams

#: The checkpoint module holding the teacher's EMA weights (what `dlmkit teacher export` ships).
EMA_MODULE = "ema"
#: Non-finite steps in a row (each skipped) before teacher training stops, naming the last good checkpoint.
MAX_BAD_STEPS = 20


class TeacherLossStep(torch.nn.Module):
    """The loss as a module, so DistributedDataParallel sees every use of the teacher's parameters."""

    def __init__(self, teacher: Teacher, schedule: NoiseSchedule, loss: TeacherLoss):
        super().__init__()
        self.teacher = as_module(teacher)
        self.schedule = schedule
        self.loss = loss

    def forward(self, batch: Batch, t: Tensor, *noises: Tensor) -> Mapping[str, Tensor]:
        return self.loss(cast(Teacher, self.teacher), self.schedule, batch, t, noises)


@torch.no_grad()
def validation_loss(ctx: RunContext, loss: TeacherLoss, model: Any, batches: int, batch_size: int) -> float:
    """Mean loss of ``model`` on the first ``batches`` valid batches, with fixed noise."""
    if not ctx.dataset.has_split("valid"):
        return float("nan")
    data = ctx.dataset.split("valid")
    g = torch.Generator().manual_seed(1234)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    device = ctx.runtime.device
    for i in range(batches):
        part = data.slice(i * batch_size, (i + 1) * batch_size)
        if len(part) == 0:
            break
        part = part.to(device)
        t = randint(0, ctx.schedule.num_timesteps, (len(part),), g, device)
        shape = (len(part), ctx.dataset.seq_len, model.embed_dim)
        noises = [randn(shape, g, device) for _ in range(loss.noise_draws)]
        with ctx.runtime.autocast():
            terms = loss(model, ctx.schedule, part, t, noises)
        total += float(terms["loss"].float().sum())
        count += len(part)
    model.train(was_training)
    return total / max(1, count)


class TeacherTrainer:
    """The state and the step of one ``train_teacher`` stage; ``run_steps`` runs it."""

    def __init__(self, ctx: RunContext, name: str, stage: TrainTeacherParams):
        if ctx.teacher is None:
            raise UserError(f'[[stage]] "{name}": no teacher to train; set [teacher] name and sizes')
        self.ctx, self.name, self.stage = ctx, name, stage
        self.device = ctx.runtime.device
        self.world = world = ctx.runtime.world
        self.teacher = teacher = ctx.teacher
        if stage.init_from is not None:
            load_module(as_module(teacher), Path(stage.init_from))
        teacher.to(self.device)
        teacher.train()
        self.lo, self.hi = world.shard(stage.batch_size, f'[[stage]] "{name}" batch_size')
        micro_global = min(stage.microbatch or stage.batch_size, stage.batch_size)
        self.micro = min(micro_global, self.hi - self.lo)
        # DDP averages over ranks; DiffuSeq sums microbatch means.  This factor makes both agree.
        self.loss_scale = world.size * self.micro / micro_global
        self.ckpt_dir = ctx.ckpt_dir(name)
        seed = stage_seed(ctx.recipe.header.seed, name)
        self.generator = torch.Generator().manual_seed(seed)
        self.batches = EpochBatches(ctx.dataset.split("train"), stage.batch_size, seed)
        ref = stage.timestep_sampler
        self.timesteps: TimestepSampler = build(
            "timestep_sampler", ref.name, ref.params, num_timesteps=ctx.schedule.num_timesteps
        )
        self.loss: TeacherLoss = build("teacher_loss", stage.loss.name, stage.loss.params)
        self.params = [p for p in teacher.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=stage.lr, weight_decay=stage.weight_decay)
        self.ema = EMA(as_module(teacher), stage.ema_decay)
        wrapped = world.wrap(TeacherLossStep(teacher, ctx.schedule, self.loss), self.device)
        self.loss_module: Callable[..., Mapping[str, Tensor]] = (
            torch.compile(wrapped) if ctx.runtime.compile_networks else wrapped
        )
        self.guard = NonFiniteGuard(name, MAX_BAD_STEPS, self.ckpt_dir, f"lower lr ({stage.lr}) or set max_grad_norm")
        self.shape = (stage.batch_size, ctx.dataset.seq_len, teacher.embed_dim)

    def note(self) -> str:
        s, world = self.stage, self.world
        return (
            f"training teacher for {s.steps} steps, batch {s.batch_size} ({world.size} process"
            f"{'es' if world.size > 1 else ''} x {self.hi - self.lo}, microbatch {self.micro}), lr {s.lr}"
        )

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"model": as_module(self.teacher), EMA_MODULE: self.ema.shadow}

    def state_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer.state_dict(),
            "timesteps": self.timesteps.state_dict(),
            "batches": self.batches.state_dict(),
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.timesteps.load_state_dict(state["timesteps"])
        self.batches.load_state_dict(state["batches"])
        self.generator.set_state(state["generator"])

    def step(self, step: int, means: RunningMeans) -> None:
        stage, device, lo, hi = self.stage, self.device, self.lo, self.hi
        for group in self.optimizer.param_groups:
            group["lr"] = stage.lr * lr_factor(stage.lr_schedule, step, stage.steps, stage.warmup_steps)
        self.optimizer.zero_grad(set_to_none=True)
        batch = self.batches.next()
        t_all, weights_all = self.timesteps.sample(stage.batch_size, self.generator, torch.device("cpu"))
        noises = [torch.randn(self.shape, generator=self.generator) for _ in range(self.loss.noise_draws)]
        local_losses = []
        keys: list[str] = []
        for a in range(lo, hi, self.micro):
            b = min(a + self.micro, hi)
            part = Batch(batch.input_ids[a:b], batch.input_mask[a:b]).to(device)
            with self.ctx.runtime.autocast():
                terms = self.loss_module(part, t_all[a:b].to(device), *(n[a:b].to(device) for n in noises))
            local_losses.append(terms["loss"].detach().float())
            loss = (terms["loss"].float() * weights_all[a:b].to(device)).mean() * self.loss_scale
            loss.backward()  # microbatch gradients are summed, as DiffuSeq does
            for key, value in terms.items():
                means.add(key, value.detach().float().sum().double() / (hi - lo))
            keys = list(terms)
        for key in keys:
            means.count(key)
        step_losses = torch.cat(local_losses)
        if self.world.all_true(step_is_finite(step_losses, self.params)):
            self.timesteps.update(t_all, self.world.gather(step_losses).cpu())
            if stage.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(self.params, stage.max_grad_norm)
            self.optimizer.step()
            self.ema.update(as_module(self.teacher))
            self.guard.passed("step")
            return
        # a non-finite step is skipped: no update, no EMA, no loss-aware history
        self.optimizer.zero_grad(set_to_none=True)
        self.guard.failed("step", "teacher-training steps", step + 1)

    def log_extras(self) -> dict[str, float]:
        return {"lr": self.optimizer.param_groups[0]["lr"]}

    def validate(self, step: int) -> dict[str, float]:
        return {"val_loss": self.val_loss()}

    def val_loss(self) -> float:
        return validation_loss(self.ctx, self.loss, self.ema.shadow, self.stage.eval_batches, self.stage.batch_size)

    def done(self, step: int) -> None:
        """Teacher training accepts whatever its last step left (non-finite runs stop earlier)."""

    def run(self, kind: str) -> StageResult:
        """Train ``ctx.teacher`` in place; the EMA weights become the stage's ``teacher`` artifact."""
        end = run_steps(self.ctx, self.name, kind, self, LoopSettings.of(self.stage), self.ckpt_dir)
        if not end.complete:
            return StageResult.stopped(end.step)
        teacher_path = self.ctx.stage_dir(self.name) / TEACHER_FILE
        summary: dict[str, Any] = {"steps": end.step, "complete": True}
        if self.world.is_main:
            val = self.val_loss()
            meta = {"stage": self.name, "step": str(end.step), "val_loss": f"{val:.6f}"}
            save_teacher(cast(Teacher, self.ema.shadow), teacher_path, meta)
            summary["val_loss"] = val
        self.world.barrier()
        as_module(self.teacher).load_state_dict(self.ema.shadow.state_dict())
        self.teacher.eval()
        return StageResult(artifacts={TEACHER_ARTIFACT: teacher_path}, summary=summary)

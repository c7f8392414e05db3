"""The ``train_teacher`` stage: DiffuSeq's training loop (loss, timestep sampling, AdamW, EMA)."""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import torch
from torch import Tensor

from dlmkit.engine.batches import EpochBatches
from dlmkit.engine.checkpoint import (
    agreed_resume_checkpoint,
    latest_checkpoint,
    load_module,
    read_checkpoint,
    restoring,
    rng_state,
    set_rng_state,
    write_checkpoint,
)
from dlmkit.engine.context import RunContext, StageResult
from dlmkit.engine.ema import EMA
from dlmkit.engine.finite_step import step_is_finite
from dlmkit.engine.lr_schedules import lr_factor
from dlmkit.engine.progress import StageProgress
from dlmkit.engine.teacher_files import TEACHER_FILE, save_teacher
from dlmkit.engine.teacher_loss import DiffuSeqLoss, diffuseq_loss
from dlmkit.engine.timestep_samplers import make_timestep_sampler
from dlmkit.errors import TrainingDiverged, UserError
from dlmkit.interfaces import Batch, Teacher
from dlmkit.interfaces.teacher import as_module
from dlmkit.recipe.stages import TrainTeacherStage

#: Non-finite steps in a row (each skipped) before teacher training stops, naming the last good checkpoint.
MAX_BAD_STEPS = 20


def stage_seed(seed: int, name: str) -> int:
    return (seed * 1_000_003 + zlib.crc32(name.encode())) % (2**31)


@torch.no_grad()
def validation_loss(ctx: RunContext, model: Any, batches: int, batch_size: int) -> float:
    """Mean DiffuSeq loss of ``model`` on the first ``batches`` valid batches, with fixed noise."""
    if not ctx.dataset.has_split("valid"):
        return float("nan")
    data = ctx.dataset.split("valid")
    g = torch.Generator().manual_seed(1234)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(batches):
        part = data.slice(i * batch_size, (i + 1) * batch_size)
        if len(part) == 0:
            break
        part = part.to(ctx.runtime.device)
        t = torch.randint(0, ctx.schedule.num_timesteps, (len(part),), generator=g).to(ctx.runtime.device)
        with ctx.runtime.autocast():
            losses = diffuseq_loss(model, ctx.schedule, part, t, generator=g)
        total += float(losses["loss"].float().sum())
        count += len(part)
    model.train(was_training)
    return total / max(1, count)


def run_teacher_training(ctx: RunContext, stage: TrainTeacherStage) -> StageResult:
    """Train ``ctx.teacher`` in place; the EMA weights become the stage's teacher file.

    Every rank draws the same global batch, timesteps and noise and trains on its contiguous slice,
    so N processes take the same steps as one process with the same global batch.
    """
    if ctx.teacher is None:
        raise UserError(f'[[stage]] "{stage.name}": no teacher to train; set [teacher] name and sizes')
    device = ctx.runtime.device
    world = ctx.runtime.world
    teacher = ctx.teacher
    if stage.init_from is not None:
        load_module(as_module(teacher), Path(stage.init_from))
    teacher.to(device)
    teacher.train()
    lo, hi = world.shard(stage.batch_size, f'[[stage]] "{stage.name}" batch_size')
    micro_global = min(stage.microbatch or stage.batch_size, stage.batch_size)
    micro = min(micro_global, hi - lo)
    # DDP averages over ranks; DiffuSeq sums microbatch means.  This factor makes both agree.
    loss_scale = world.size * micro / micro_global
    out_dir = ctx.stage_dir(stage.name)
    ckpt_dir = out_dir / "ckpt"
    seed = stage_seed(ctx.recipe.header.seed, stage.name)
    generator = torch.Generator().manual_seed(seed)
    batches = EpochBatches(ctx.dataset.split("train"), stage.batch_size, seed)
    sampler = make_timestep_sampler(stage.timestep_sampler, ctx.schedule.num_timesteps)
    params = [p for p in teacher.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=stage.lr, weight_decay=stage.weight_decay)
    ema = EMA(as_module(teacher), stage.ema_decay)
    wrapped = world.wrap(DiffuSeqLoss(teacher, ctx.schedule), device)
    loss_module: Callable[..., dict[str, Tensor]] = torch.compile(wrapped) if ctx.runtime.compile_networks else wrapped
    start = 0
    latest = agreed_resume_checkpoint(world, ckpt_dir, stage.name) if ctx.resume else None
    if latest is not None:
        with restoring(latest):
            state = read_checkpoint(latest, {"model": as_module(teacher), "ema": ema.shadow})
            optimizer.load_state_dict(state["optimizer"])
            sampler.load_state_dict(state["timesteps"])
            batches.load_state_dict(state["batches"])
            generator.set_state(state["generator"])
            set_rng_state(state["rng"])
            start = int(state["step"])

    def save(step: int) -> None:
        if not world.is_main:
            return
        state = {
            "step": step,
            "optimizer": optimizer.state_dict(),
            "timesteps": sampler.state_dict(),
            "batches": batches.state_dict(),
            "generator": generator.get_state(),
            "rng": rng_state(),
        }
        modules = {"model": as_module(teacher), "ema": ema.shadow}
        write_checkpoint(ckpt_dir, step, modules, state, {"stage": stage.name, "kind": stage.kind})

    deadline = time.monotonic() + stage.max_minutes * 60 if stage.max_minutes else math.inf
    step = start
    bad_in_row = 0
    sums: dict[str, float] = {}
    t_last, step_last = time.perf_counter(), start
    shape = (stage.batch_size, ctx.dataset.seq_len, teacher.embed_dim)
    with StageProgress(stage.name, stage.steps, ctx.metrics_log, ctx.progress_mode, start, world.is_main) as progress:
        progress.note(
            f"training teacher for {stage.steps} steps, batch {stage.batch_size} ({world.size} process"
            f"{'es' if world.size > 1 else ''} x {hi - lo}, microbatch {micro}), lr {stage.lr}"
        )
        while step < stage.steps:
            for group in optimizer.param_groups:
                group["lr"] = stage.lr * lr_factor(stage.lr_schedule, step, stage.steps, stage.warmup_steps)
            optimizer.zero_grad(set_to_none=True)
            batch = batches.next()
            t_all, weights_all = sampler.sample(stage.batch_size, generator, torch.device("cpu"))
            start_noise = torch.randn(shape, generator=generator)
            noise = torch.randn(shape, generator=generator)
            local_losses = []
            for a in range(lo, hi, micro):
                b = min(a + micro, hi)
                part = Batch(batch.input_ids[a:b], batch.input_mask[a:b]).to(device)
                t = t_all[a:b].to(device)
                with ctx.runtime.autocast():
                    terms = loss_module(part, t, start_noise[a:b].to(device), noise[a:b].to(device))
                local_losses.append(terms["loss"].detach().float())
                loss = (terms["loss"].float() * weights_all[a:b].to(device)).mean() * loss_scale
                loss.backward()  # microbatch gradients are summed, as DiffuSeq does
                for key, value in terms.items():
                    sums[key] = sums.get(key, 0.0) + float(value.detach().float().sum()) / (hi - lo)
            step_losses = torch.cat(local_losses)
            if world.all_true(step_is_finite(step_losses, params)):
                sampler.update(t_all, world.gather(step_losses).cpu())
                if stage.max_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(params, stage.max_grad_norm)
                optimizer.step()
                ema.update(as_module(teacher))
                bad_in_row = 0
            else:  # a non-finite step is skipped: no update, no EMA, no loss-aware history
                optimizer.zero_grad(set_to_none=True)
                bad_in_row += 1
                if bad_in_row >= MAX_BAD_STEPS:
                    raise TrainingDiverged(
                        f'[[stage]] "{stage.name}": {bad_in_row} non-finite teacher-training steps in a row at '
                        f"step {step + 1} (lr {stage.lr}); last good checkpoint: "
                        f"{latest_checkpoint(ckpt_dir) or 'none (stage start)'}; lower lr or set max_grad_norm"
                    )
            step += 1
            progress.advance(step)
            if step % stage.log_every == 0 or step == stage.steps:
                n = step - step_last
                now = time.perf_counter()
                metrics = world.mean({k: v / max(1, n) for k, v in sums.items()})
                metrics["lr"] = optimizer.param_groups[0]["lr"]
                metrics["steps_per_s"] = n / max(1e-9, now - t_last)
                progress.log(step, metrics)
                sums, t_last, step_last = {}, now, step
            if stage.eval_every and step % stage.eval_every == 0 and world.is_main:
                progress.log(step, {"val_loss": validation_loss(ctx, ema.shadow, stage.eval_batches, stage.batch_size)})
            if stage.ckpt_every and step % stage.ckpt_every == 0:
                save(step)
            stop = world.broadcast_object(time.monotonic() > deadline and step < stage.steps)
            if stop:
                save(step)
                progress.note(f"stopped after {stage.max_minutes} minutes at step {step}; continue with --resume")
                return StageResult(summary={"steps": step, "complete": False})
    save(step)
    teacher_path = out_dir / TEACHER_FILE
    summary: dict[str, Any] = {"steps": step, "complete": True}
    if world.is_main:
        val = validation_loss(ctx, ema.shadow, stage.eval_batches, stage.batch_size)
        meta = {"stage": stage.name, "step": str(step), "val_loss": f"{val:.6f}"}
        save_teacher(cast(Teacher, ema.shadow), teacher_path, meta)
        summary["val_loss"] = val
    world.barrier()
    as_module(teacher).load_state_dict(ema.shadow.state_dict())
    teacher.eval()
    return StageResult(teacher=teacher_path, summary=summary)

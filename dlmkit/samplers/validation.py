"""Checks every sampler makes before it runs, so a mismatch fails with a clear message."""

from __future__ import annotations

from dlmkit.errors import UserError
from dlmkit.interfaces.dataset import Batch
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.teacher import Denoiser


def check_inputs(sampler: str, model: Denoiser, batch: Batch, schedule: NoiseSchedule) -> None:
    """The model and schedule must share their timesteps, and the batch must be ``[B, L]`` ids and mask."""
    model_steps = getattr(model, "num_timesteps", None)
    if model_steps is not None and model_steps != schedule.num_timesteps:
        raise UserError(
            f"sampler '{sampler}': the model uses {model_steps} diffusion steps but the schedule has "
            f"{schedule.num_timesteps}; set [schedule] num_timesteps = {model_steps}"
        )
    if batch.input_ids.dim() != 2 or batch.input_ids.shape != batch.input_mask.shape:
        raise UserError(
            f"sampler '{sampler}': input_ids {tuple(batch.input_ids.shape)} and input_mask "
            f"{tuple(batch.input_mask.shape)} must both be [batch, seq_len]"
        )


def check_timestep(sampler: str, key: str, value: int, schedule: NoiseSchedule) -> None:
    if not 0 <= value < schedule.num_timesteps:
        raise UserError(
            f"[sampler] {key} = {value} is outside the schedule's timesteps 0..{schedule.num_timesteps - 1} "
            f"(sampler '{sampler}')"
        )


def check_steps(sampler: str, steps: int, schedule: NoiseSchedule, minimum: int = 1) -> None:
    if not minimum <= steps <= schedule.num_timesteps:
        raise UserError(
            f"[sampler] steps = {steps} must lie in {minimum}..{schedule.num_timesteps} for sampler '{sampler}' "
            f"on a schedule of {schedule.num_timesteps} steps"
        )

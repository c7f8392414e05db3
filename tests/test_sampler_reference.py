"""Reference loops written from the spec (diffuseq.md §2.2, §2.8–2.10), numpy arrays and the global RNG.

Each dlmkit sampler, given ``SeededNoise(seed)``, must feed the network exactly the states the
official loop would (same random stream, same arithmetic) and return the same ids.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import Tensor

from dlmkit.interfaces import Batch
from dlmkit.samplers import (
    AncestralParams,
    AncestralSampler,
    DDIMGapParams,
    DDIMGapSampler,
    DPMSolverPPParams,
    DPMSolverPPSampler,
)
from dlmkit.samplers.noise import SeededNoise
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.testing.denoisers import ModelTimeSpyDenoiser, SpyDenoiser
from dlmkit.testing.toy_teacher import ToyTeacher, ToyTeacherParams, build_toy_teacher

T = 30
SEED = 11


def official_betas(num_timesteps: int) -> np.ndarray:
    def alpha_bar(s: float) -> float:
        return 1 - math.sqrt(s + 0.0001)

    return np.array(
        [
            min(1 - alpha_bar((i + 1) / num_timesteps) / alpha_bar(i / num_timesteps), 0.999)
            for i in range(num_timesteps)
        ],
        dtype=np.float64,
    )


class Arrays:
    def __init__(self, betas: np.ndarray) -> None:
        alphas = 1.0 - betas
        self.acp = np.cumprod(alphas)
        self.acp_prev = np.append(1.0, self.acp[:-1])
        self.coef1 = betas * np.sqrt(self.acp_prev) / (1.0 - self.acp)
        self.coef2 = (1.0 - self.acp_prev) * np.sqrt(alphas) / (1.0 - self.acp)
        posterior_variance = betas * (1.0 - self.acp_prev) / (1.0 - self.acp)
        self.log_var_large = np.log(np.append(posterior_variance[1], betas[1:]))
        self.sqrt_recip = np.sqrt(1.0 / self.acp)
        self.sqrt_recipm1 = np.sqrt(1.0 / self.acp - 1)


def ext(array: np.ndarray, t: Tensor, x: Tensor) -> Tensor:
    return torch.from_numpy(array)[t].float().view(-1, 1, 1).expand(x.shape)


@pytest.fixture(scope="module")
def model() -> ToyTeacher:
    torch.manual_seed(2)
    return build_toy_teacher(ToyTeacherParams(num_timesteps=T), vocab_size=17, seq_len=7).eval()


@pytest.fixture(scope="module")
def batch() -> Batch:
    ids = torch.randint(1, 17, (2, 7), generator=torch.Generator().manual_seed(4))
    return Batch(ids, torch.tensor([[0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1]]))


def official_p_sample_loop(model: ToyTeacher, batch: Batch, arrays: Arrays) -> tuple[list[Tensor], Tensor]:
    torch.manual_seed(SEED)
    x_start = model.embed(batch.input_ids)
    mask = batch.input_mask.unsqueeze(-1)
    x = torch.where(mask == 0, x_start, torch.randn_like(x_start))
    seen = []
    for i in reversed(range(T)):
        t = torch.tensor([i] * x.shape[0])
        seen.append(x.clone())
        out = model.embed(model.round(model.denoise(x, t)))
        mean = ext(arrays.coef1, t, x) * out + ext(arrays.coef2, t, x) * x
        noise = torch.randn_like(x)
        nonzero = (t != 0).float().view(-1, 1, 1)
        x = mean + nonzero * torch.exp(0.5 * ext(arrays.log_var_large, t, x)) * noise
        x = torch.where(mask == 0, x_start, x)
    return seen, model.logits(x).argmax(-1)


def official_ddim_gap_loop(model: ToyTeacher, batch: Batch, arrays: Arrays, step: int) -> tuple[list[Tensor], Tensor]:
    torch.manual_seed(SEED)
    x_start = model.embed(batch.input_ids)
    mask = batch.input_mask.unsqueeze(-1)
    x = torch.where(mask == 0, x_start, torch.randn_like(x_start))
    seen = []
    for i in list(range(T))[::-1][:: T // step]:
        t = torch.tensor([i] * x.shape[0])
        seen.append(x.clone())
        out = model.embed(model.round(model.denoise(x, t)))
        eps = (ext(arrays.sqrt_recip, t, x) * x - out) / ext(arrays.sqrt_recipm1, t, x)
        abar, abar_prev = ext(arrays.acp, t, x), ext(arrays.acp_prev, t, x)
        sigma = 0.0 * torch.sqrt((1 - abar_prev) / (1 - abar)) * torch.sqrt(1 - abar / abar_prev)
        noise = torch.randn_like(x)
        mean = out * torch.sqrt(abar_prev) + torch.sqrt(1 - abar_prev - sigma**2) * eps
        x = mean + (t != 0).float().view(-1, 1, 1) * sigma * noise
        x = torch.where(mask == 0, x_start, x)
    return seen, model.logits(x).argmax(-1)


def official_dpm_solver_v2(
    model: ToyTeacher, batch: Batch, betas: np.ndarray, steps: int
) -> tuple[list[Tensor], Tensor]:
    n = len(betas)
    points_t = (np.arange(n) + 1) / n
    points_log_alpha = 0.5 * np.cumsum(np.log(1 - betas))

    def log_alpha(t: float) -> float:
        return float(np.interp(t, points_t, points_log_alpha))

    def sigma(t: float) -> float:
        return math.sqrt(1 - math.exp(2 * log_alpha(t)))

    def lam(t: float) -> float:
        return log_alpha(t) - 0.5 * math.log(1 - math.exp(2 * log_alpha(t)))

    torch.manual_seed(SEED)
    x_start = model.embed(batch.input_ids)
    mask = batch.input_mask.unsqueeze(-1)
    x = torch.where(mask == 0, x_start, torch.randn_like(x_start))
    seen: list[Tensor] = []

    def x0_model(x: Tensor, t: float) -> Tensor:
        seen.append(x.clone())
        out = model.denoise_at_model_time(x, torch.full((x.shape[0],), t * 1000.0))
        return torch.where(mask == 0, x_start, out)

    grid = np.linspace(1.0, 1.0 / n, steps + 1)
    models, times = [x0_model(x, grid[0])], [grid[0]]
    x = models[0]
    for step in range(1, steps + 1):
        t = grid[step]
        order = 1 if step == 1 or (steps < 10 and step == steps) else 2
        s = times[-1]
        h = lam(t) - lam(s)
        phi = math.expm1(-h)
        alpha_t = math.exp(log_alpha(t))
        new = (sigma(t) / sigma(s)) * x - (alpha_t * phi) * models[-1]
        if order == 2:
            r0 = (lam(s) - lam(times[-2])) / h
            new = new - 0.5 * (alpha_t * phi) * (1.0 / r0) * (models[-1] - models[-2])
        x = torch.where(mask == 0, x_start, new)
        times = [*times[-1:], t]
        if step < steps:
            x = x0_model(x, t)
            models = [*models[-1:], x]
    return seen, model.logits(x).argmax(-1)


def compare(ours: list[Tensor], official: list[Tensor]) -> None:
    assert len(ours) == len(official)
    for k, (a, b) in enumerate(zip(ours, official, strict=True)):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-5), f"network input #{k} differs by {(a - b).abs().max():.3g}"


@torch.no_grad()
def test_ancestral_matches_the_official_p_sample_loop(model: ToyTeacher, batch: Batch) -> None:
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    spy = SpyDenoiser(model, keep_inputs=True)
    ids = AncestralSampler(AncestralParams()).sample(spy, batch, schedule, SeededNoise(SEED))
    seen, official_ids = official_p_sample_loop(model, batch, Arrays(official_betas(T)))
    compare(spy.inputs, seen)
    target = batch.input_mask == 1
    assert torch.equal(ids[target], official_ids[target])


@torch.no_grad()
@pytest.mark.parametrize("step", [3, 10, 15])
def test_ddim_gap_matches_the_official_ddim_loop(model: ToyTeacher, batch: Batch, step: int) -> None:
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    spy = SpyDenoiser(model, keep_inputs=True)
    ids = DDIMGapSampler(DDIMGapParams(steps=step)).sample(spy, batch, schedule, SeededNoise(SEED))
    seen, official_ids = official_ddim_gap_loop(model, batch, Arrays(official_betas(T)), step)
    compare(spy.inputs, seen)
    target = batch.input_mask == 1
    assert torch.equal(ids[target], official_ids[target])


@torch.no_grad()
@pytest.mark.parametrize("steps", [2, 5, 12])
def test_dpm_solver_pp_matches_the_v2_loop(model: ToyTeacher, batch: Batch, steps: int) -> None:
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))
    spy = ModelTimeSpyDenoiser(model, keep_inputs=True)
    ids = DPMSolverPPSampler(DPMSolverPPParams(steps=steps)).sample(spy, batch, schedule, SeededNoise(SEED))
    seen, official_ids = official_dpm_solver_v2(model, batch, official_betas(T), steps)
    compare(spy.inputs, seen)
    grid = np.linspace(1.0, 1.0 / T, steps + 1)[:steps] * 1000.0
    assert [float(t[0]) for t in spy.times] == pytest.approx(grid.tolist())
    target = batch.input_mask == 1
    assert torch.equal(ids[target], official_ids[target])

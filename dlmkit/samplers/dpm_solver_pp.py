"""DiffuSeq-v2's DPM-Solver++ decoding (2M multistep, time-uniform grid, x0 model, no rounding).

The discrete schedule becomes a continuous VP process on ``t_n = (n+1)/N`` with ``log alpha``
interpolated piecewise linearly between the points ``0.5 * cumsum(log(1 - beta))`` (and
extrapolated linearly outside them).  The network is fed model time ``t * 1000``, v2's choice,
which is half a model-time unit (one timestep) later than training used.

v2's modification of upstream DPM-Solver is replicated: after each network call the *state*
is overwritten by the condition-re-injected ``x0`` prediction, so every solver update starts
from that estimate rather than from ``x_t``; after each update the condition is put back again.

Schedule quantities are computed in float64 Python scalars (the reference uses float32 arrays
under fp16 autocast); ``x0`` predictions are used directly rather than round-tripped through
the noise parameterization, which is the same value up to rounding.
"""

from __future__ import annotations

import math

import attrs
import torch
from torch import Tensor

from dlmkit.interfaces.dataset import Batch
from dlmkit.interfaces.sampler import NoiseSource
from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.interfaces.teacher import ContinuousTimeDenoiser, Denoiser
from dlmkit.samplers.condition import AnchoredCondition
from dlmkit.samplers.validation import check_inputs


@attrs.frozen
class DPMSolverPPParams:
    """``order`` 2 is v2's 2M; ``lower_order_final`` drops to first order at the end when steps < 10."""

    steps: int = attrs.field(default=10, validator=[attrs.validators.instance_of(int), attrs.validators.ge(1)])
    order: int = attrs.field(default=2, validator=attrs.validators.in_([1, 2]))
    lower_order_final: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))


class DiscreteVP:
    """``log alpha(t)``, ``sigma(t)`` and ``lambda(t)`` of a discrete schedule on continuous ``t`` in (0, 1]."""

    def __init__(self, betas: Tensor) -> None:
        log_alpha = 0.5 * torch.log1p(-betas.to(torch.float64)).cumsum(0)
        self.total_n = int(log_alpha.numel())
        self.log_alpha_points = log_alpha.tolist()

    def log_alpha(self, t: float) -> float:
        # Points sit at t_n = (n+1)/N, so position n = t*N - 1; clamp the segment to extrapolate at the ends.
        position = t * self.total_n - 1.0
        lower = min(max(math.floor(position), 0), self.total_n - 2)
        y0, y1 = self.log_alpha_points[lower], self.log_alpha_points[lower + 1]
        return y0 + (position - lower) * (y1 - y0)

    def alpha(self, t: float) -> float:
        return math.exp(self.log_alpha(t))

    def sigma(self, t: float) -> float:
        return math.sqrt(-math.expm1(2.0 * self.log_alpha(t)))

    def lam(self, t: float) -> float:
        """Half log-SNR ``log alpha - log sigma``."""
        log_alpha = self.log_alpha(t)
        return log_alpha - 0.5 * math.log(-math.expm1(2.0 * log_alpha))


class DPMSolverPPSampler:
    """v2's ``DPM_Solver(..., "dpmsolver++").sample(order=2, "time_uniform", "multistep")``; ``nfe()`` = steps.

    A ``ContinuousTimeDenoiser`` (``denoise_at_model_time(x, model_time)``) gets the exact float time ``t * 1000``;
    any other ``Denoiser`` is called at the nearest integer timestep, ``round(t * N)`` clamped
    to ``N - 1`` (the integer step whose model time is closest to ``t * 1000``).
    """

    name = "dpm_solver_pp"

    def __init__(self, params: DPMSolverPPParams | None = None) -> None:
        self.params = params if params is not None else DPMSolverPPParams()

    def nfe(self, num_timesteps: int | None = None) -> int:
        """A fixed count: the schedule's length does not change it."""
        return self.params.steps

    def time_grid(self, num_timesteps: int) -> list[float]:
        """``linspace(1, 1/N, steps + 1)``: the solver's continuous times, from noise to data."""
        return torch.linspace(1.0, 1.0 / num_timesteps, self.params.steps + 1, dtype=torch.float64).tolist()

    @staticmethod
    def _predict_x0(model: Denoiser, x: Tensor, t: float, vp: DiscreteVP) -> Tensor:
        model_time = t * 1000.0
        if isinstance(model, ContinuousTimeDenoiser):
            times = torch.full((x.shape[0],), model_time, dtype=torch.float32, device=x.device)
            return model.denoise_at_model_time(x, times)
        step = min(max(round(t * vp.total_n), 0), vp.total_n - 1)
        return model.denoise(x, torch.full((x.shape[0],), step, dtype=torch.long, device=x.device))

    @staticmethod
    def _update(
        x: Tensor, x0_history: list[Tensor], t_history: list[float], t: float, order: int, vp: DiscreteVP
    ) -> Tensor:
        """One DPM-Solver++ multistep update (first or second order, ``dpmsolver`` type) to time ``t``."""
        s = t_history[-1]
        h = vp.lam(t) - vp.lam(s)
        phi = math.expm1(-h)
        alpha_t = vp.alpha(t)
        out = (vp.sigma(t) / vp.sigma(s)) * x - (alpha_t * phi) * x0_history[-1]
        if order == 2:
            r0 = (vp.lam(s) - vp.lam(t_history[-2])) / h
            out = out - (0.5 * alpha_t * phi / r0) * (x0_history[-1] - x0_history[-2])
        return out

    @torch.no_grad()
    def sample(self, model: Denoiser, batch: Batch, schedule: NoiseSchedule, noise: NoiseSource) -> Tensor:
        check_inputs(self.name, model, batch, schedule)
        vp = DiscreteVP(schedule.betas)
        steps = self.params.steps
        order = min(self.params.order, steps)
        grid = self.time_grid(schedule.num_timesteps)

        cond = AnchoredCondition.from_batch(model, batch)
        x = cond.anchor(noise.initial(cond.shape, cond.embedding))
        x = cond.anchor(self._predict_x0(model, x, grid[0], vp))
        x0_history, t_history = [x], [grid[0]]
        for step in range(1, order):
            x = cond.anchor(self._update(x, x0_history, t_history, grid[step], step, vp))
            t_history.append(grid[step])
            x = cond.anchor(self._predict_x0(model, x, grid[step], vp))
            x0_history.append(x)
        for step in range(order, steps + 1):
            step_order = order
            if self.params.lower_order_final and steps < 10:
                step_order = min(order, steps + 1 - step)
            x = cond.anchor(self._update(x, x0_history, t_history, grid[step], step_order, vp))
            x0_history, t_history = [*x0_history[1:], x0_history[-1]], [*t_history[1:], grid[step]]
            if step < steps:  # the final x0 prediction would be unused
                x = cond.anchor(self._predict_x0(model, x, grid[step], vp))
                x0_history[-1] = x
        return cond.output_ids(model, x)

"""The fake-score network's denoising score matching loss (spec §6.2), shared by every objective.

psi learns the score of the generator's distribution by regressing the clean (detached) generator
sample from its noised version; weight ``one`` is DiffuSeq's own x0-MSE, which a psi initialised
from the teacher already minimises for the teacher's data.
"""

from __future__ import annotations

import attrs
from torch import Tensor

from dlmkit.interfaces.schedule import NoiseSchedule
from dlmkit.objectives.finite import finite_sum
from dlmkit.objectives.masking import masked_mean, masked_sum
from dlmkit.objectives.psi_view import PsiView
from dlmkit.objectives.weighting import time_weight


@attrs.frozen
class DsmResult:
    """The batch loss, the unweighted per-element MSE (for logs) and the dropped sample count."""

    loss: Tensor
    mse: Tensor
    dropped: Tensor


def dsm_loss(
    view: PsiView, schedule: NoiseSchedule, weighting: str, sigma_data: float, *, per_element: bool
) -> DsmResult:
    """``(1/B) sum_i lambda(t_i) sum_m (psi(x_t) - x0)^2``; ``per_element`` uses ``mean_m`` instead.

    Element sums are SiD's scale; per-element means are DMD2's (``F.mse_loss``), which its GAN
    weights are relative to.
    """
    error = (view.pred - view.x0).square()
    per_sample = masked_mean(error, view.weights) if per_element else masked_sum(error, view.weights)
    weight = time_weight(weighting, schedule, view.t, view.x0, sigma_data)
    total, dropped = finite_sum(weight * per_sample)
    mse = masked_mean(error.detach(), view.weights).mean()
    return DsmResult(loss=total / view.x0.shape[0], mse=mse.detach(), dropped=dropped)

"""Readings that say why a distillation run moves, stalls or runs away (logged, never trained on).

* ``psi_advantage``: on the generator's noised samples, the teacher's denoising error minus psi's.
  SiD's and DMD's gradient ``A - B`` carries signal about the student only while psi models the
  student better than the teacher does; at or below zero it is the teacher's error, not a direction.
* The output scale: the student's per-token norms against the embedding table's.  Rounding is blind to
  scale, so a student can drift off the table (where the teacher's predictions mean nothing) while
  BLEU or validity still look fine; these catch that drift before the metric does.
"""

from __future__ import annotations

import torch
from torch import Tensor

from dlmkit.interfaces.objective import Scalar
from dlmkit.objectives.generator_view import GeneratorView
from dlmkit.objectives.masking import masked_mean


def psi_advantage(view: GeneratorView) -> dict[str, Scalar]:
    """The teacher's and psi's x0 errors on the generator's sample and their difference (absolute and relative)."""
    if view.teacher_pred is None or view.psi_pred is None:
        return {}
    with torch.no_grad():
        x_g = view.x_gen.detach()
        teacher = masked_mean((view.teacher_pred.detach() - x_g).square(), view.weights).mean()
        psi = masked_mean((view.psi_pred.detach() - x_g).square(), view.weights).mean()
        gap = teacher - psi
        relative = gap / teacher.clamp_min(torch.finfo(teacher.dtype).tiny)
    return {
        "teacher_dsm": teacher.detach(),
        "psi_dsm": psi.detach(),
        "psi_advantage": gap.detach(),
        "psi_advantage_rel": relative.detach(),
    }


def token_norms(x: Tensor, tokens: Tensor) -> Tensor:
    """The norms of the target tokens of ``x`` ``[B, L, D]`` (``tokens`` the ``[B, L]`` target mask), flat."""
    return x.float().norm(dim=-1)[tokens > 0]


def output_scale(x_gen: Tensor, tokens: Tensor, table: Tensor) -> dict[str, Scalar]:
    """The student's target-token norms against the table's: mean / mean, max / max, and the share beyond its max."""
    with torch.no_grad():
        norms = token_norms(x_gen.detach(), tokens)
        rows = table.detach().float().norm(dim=-1)
        if norms.numel() == 0:
            return {}
        largest = rows.max()
        return {
            "out_norm": (norms.mean() / rows.mean()).detach(),
            "out_norm_max": (norms.max() / largest).detach(),
            "out_beyond": (norms > largest).float().mean().detach(),
        }


def scale_excess(x_gen: Tensor, tokens: Tensor, table: Tensor) -> Tensor:
    """Mean over target tokens of ``relu(||x|| - max_k ||e_k||)^2`` (0 for outputs on the table's scale).

    The optional hold on scale (a distill stage's ``scale_penalty``): zero wherever the student stays
    within the table's largest norm, so it changes nothing for a student that never drifts.
    """
    largest = table.detach().float().norm(dim=-1).max()
    excess = torch.relu(x_gen.float().norm(dim=-1) - largest).square()
    count = tokens.sum().clamp_min(1.0)
    return (excess * tokens).sum() / count

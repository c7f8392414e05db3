"""The public toolkit for writing objectives: the helpers the built-in objectives are made of.

Import from here (not from the modules behind it) in a plugin: these names are the stable surface.
Reductions go per sample first, so per-sample weights act per sample and a loss does not depend on
the order of the batch; ``finite_sum`` drops a sample whose value overflowed instead of letting it
turn the batch's loss into NaN; the views run the teacher and psi the way every SiD-family loss does.
"""

from __future__ import annotations

from dlmkit.objectives.finite import finite_sum
from dlmkit.objectives.generator_view import GeneratorView, generator_view
from dlmkit.objectives.masking import element_count, masked_mean, masked_sum, target_weights, token_mean
from dlmkit.objectives.noising import Noised, draw_timesteps, forward_noise
from dlmkit.objectives.psi_view import PsiView, psi_view
from dlmkit.objectives.weighting import signal_to_noise, time_weight

__all__ = [
    "GeneratorView",
    "Noised",
    "PsiView",
    "draw_timesteps",
    "element_count",
    "finite_sum",
    "forward_noise",
    "generator_view",
    "masked_mean",
    "masked_sum",
    "psi_view",
    "signal_to_noise",
    "target_weights",
    "time_weight",
    "token_mean",
]

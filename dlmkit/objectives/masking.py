"""Per-sample reductions over target positions (the spec's ``sum_m``, ``mean_m``, ``N_m``).

Every objective reduces per sample first so that per-sample weights act per sample (the SiDA
batch-mean subtlety) and so that losses do not depend on the order of the batch.
"""

from __future__ import annotations

from torch import Tensor

from dlmkit.injectors.positions import target_positions


def target_weights(mask: Tensor, like: Tensor) -> Tensor:
    """The target mask as 0/1 in ``like``'s dtype, broadcastable to ``like`` ``[B, L, D]``."""
    return target_positions(mask, like).to(like.dtype)


def masked_sum(values: Tensor, weights: Tensor) -> Tensor:
    """``sum_m``: per-sample sum of ``values`` over target elements, ``[B]``."""
    return (values * weights).flatten(1).sum(1)


def element_count(weights: Tensor, like: Tensor) -> Tensor:
    """``N_m``: per-sample number of target elements (tokens times embedding width), ``[B]``."""
    return weights.expand_as(like).flatten(1).sum(1)


def masked_mean(values: Tensor, weights: Tensor) -> Tensor:
    """``mean_m``: per-sample mean over target elements (0 for a sample without targets), ``[B]``."""
    return masked_sum(values, weights) / element_count(weights, values).clamp_min(1.0)


def token_mean(values: Tensor, tokens: Tensor) -> Tensor:
    """Per-sample mean of per-token ``values`` ``[B, L]`` over target tokens, ``[B]``."""
    return (values * tokens).sum(1) / tokens.sum(1).clamp_min(1.0)

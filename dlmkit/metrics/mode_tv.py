"""mode_tv: how far the answered modes' shares are from uniform (``modes`` data), as a total variation.

Only sources whose K answers all differ count, so every valid output names exactly one mode.  Among
the valid outputs on those sources, mode k has share ``p_k``; the metric is
``1/2 sum_k |p_k - 1/K|``: 0 when every mode is answered equally often, ``1 - 1/K`` when one mode
takes everything.  With no valid output there is no share to measure and the metric is that worst
value, ``1 - 1/K``, so a model cannot look balanced by being invalid.
"""

from __future__ import annotations

from collections.abc import Sequence

from dlmkit.data.modes import answers, matched_modes
from dlmkit.metrics.mode_metric import ModeMetric, words


def mode_shares(hyps: Sequence[str], sources: Sequence[str], modes: Sequence[str]) -> dict[str, float] | None:
    """Each mode's share of the valid outputs on sources with distinct answers; None when there are none."""
    counts = dict.fromkeys(modes, 0)
    for hyp, src in zip(hyps, sources, strict=True):
        source = words(src, source=True)
        options = answers(source, modes)
        if len({tuple(a) for a in options}) < len(options):
            continue
        for mode in matched_modes(words(hyp), source, modes):
            counts[mode] += 1
    total = sum(counts.values())
    return {m: c / total for m, c in counts.items()} if total else None


class ModeTvMetric(ModeMetric):
    """Total-variation distance between the answered modes' shares and the uniform distribution."""

    name = "mode_tv"
    higher_is_better = False

    def score(self, hyps: Sequence[str], sources: Sequence[str], modes: Sequence[str]) -> float:
        shares = mode_shares(hyps, sources, modes)
        uniform = 1.0 / len(modes)
        if shares is None:
            return 1.0 - uniform
        return 0.5 * sum(abs(share - uniform) for share in shares.values())

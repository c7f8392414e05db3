"""The metric contract: what every registered metric must do, checked on small made-up outputs."""

from __future__ import annotations

import math

from dlmkit.interface_check import missing_members
from dlmkit.interfaces import Metric


def check_metric(metric: Metric) -> None:
    """Raise ``AssertionError`` naming the broken promise, else return.

    A metric declares its direction, scores a corpus to one finite number, gives the same number
    when the examples are reordered together, scores perfect outputs at least as well as wrong ones
    in its own direction, and survives empty outputs (a collapsed student writes them).
    """
    missing = missing_members(metric, Metric)
    assert not missing, f"{type(metric).__qualname__} lacks {', '.join(missing)} of dlmkit.interfaces.Metric"
    assert isinstance(metric.higher_is_better, bool), "'higher_is_better' must be a bool"
    refs = ["how do i learn python fast ?", "what is the capital of france ?", "why is the sky blue ?"]
    sources = ["best way to learn python", "capital city of france", "sky colour reason"]
    wrong = ["is a cat a dog ?", "what is a capital ?", "the sky"]
    candidates = [refs, wrong] if metric.needs_candidates else None

    def score(hyps: list[str], order: list[int] | None = None) -> float:
        order = order or list(range(len(refs)))
        picked = [[c[i] for i in order] for c in candidates] if candidates is not None else None
        value = metric.compute([hyps[i] for i in order], [refs[i] for i in order], [sources[i] for i in order], picked)
        assert isinstance(value, int | float) and not isinstance(value, bool), f"compute returned {value!r}"
        assert math.isfinite(value), f"compute returned {value} for ordinary outputs"
        return float(value)

    base = score(wrong)
    assert math.isclose(score(wrong, [2, 0, 1]), base, rel_tol=1e-9, abs_tol=1e-12), (
        "the score changed when the examples were reordered together"
    )
    sign = 1.0 if metric.higher_is_better else -1.0
    if not metric.needs_candidates:  # diversity metrics do not compare with the references
        assert sign * score(refs) >= sign * base, "perfect outputs score worse than wrong ones"
    empty = metric.compute(["", "", ""], refs, sources, [["", "", ""]] * 2 if metric.needs_candidates else None)
    assert math.isfinite(float(empty)), f"empty outputs scored {empty}"

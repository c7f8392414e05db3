"""A distill stage's time laws: every draw in [t_min, t_max]; ``karras`` weighs low noise as SiD-EDM does."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmkit.objectives.time_law import draw_stage_timesteps, edm_sigmas
from dlmkit.plugins import build, make_params

SCHEDULE = build("schedule", "sqrt", make_params("schedule", "sqrt", num_timesteps=2000))


@settings(max_examples=60, deadline=None)
@given(
    law=st.sampled_from(["uniform", "karras"]),
    lo=st.integers(0, 1999),
    width=st.integers(0, 1999),
    seed=st.integers(0, 99),
)
def test_every_draw_is_an_integer_in_range(law: str, lo: int, width: int, seed: int) -> None:
    hi = min(1999, lo + width)
    t = draw_stage_timesteps(law, SCHEDULE, 64, lo, hi, torch.Generator().manual_seed(seed), torch.device("cpu"))
    assert t.dtype == torch.long and t.shape == (64,)
    assert int(t.min()) >= lo and int(t.max()) <= hi


def test_karras_follows_the_ramp_between_the_ends_sigmas() -> None:
    """The quartiles of the drawn sigmas are the ramp's at u = 1/4, 1/2, 3/4 (up to the grid of timesteps)."""
    t = draw_stage_timesteps("karras", SCHEDULE, 20_000, 0, 1976, torch.Generator().manual_seed(0), torch.device("cpu"))
    sigma = edm_sigmas(SCHEDULE)
    lo, hi = float(sigma[0]) ** (1 / 7), float(sigma[1976]) ** (1 / 7)
    drawn = sigma[t]
    for u in (0.25, 0.5, 0.75):
        ramp = (lo + u * (hi - lo)) ** 7
        assert abs(float(drawn.quantile(u)) - ramp) < 0.05 * ramp


def test_an_unknown_law_is_named() -> None:
    with pytest.raises(ValueError, match="unknown time law 'lognormal'"):
        draw_stage_timesteps("lognormal", SCHEDULE, 4, 0, 10, torch.Generator(), torch.device("cpu"))

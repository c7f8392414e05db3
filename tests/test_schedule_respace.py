"""iDDPM respacing: which steps are kept and that kept steps keep their abar."""

from __future__ import annotations

import pytest
import torch

from dlmkit.errors import UserError
from dlmkit.schedules.respace import respace, space_timesteps
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule


def test_single_section_spans_both_ends() -> None:
    kept = space_timesteps(2000, [5])
    # round(k * 1999 / 4) with Python's round-half-even: 0, 499.75, 999.5, 1499.25, 1999.
    assert kept == [0, 500, 1000, 1499, 1999]


def test_sections_and_ddim_strides() -> None:
    assert space_timesteps(10, "2,3") == [0, 4, 5, 7, 9]
    assert space_timesteps(100, "ddim25") == list(range(0, 100, 4))
    with pytest.raises(UserError):
        space_timesteps(10, "ddim7")
    with pytest.raises(UserError):
        space_timesteps(10, [11])


def test_respaced_schedule_keeps_alpha_bar_at_kept_steps() -> None:
    base = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=200))
    kept = space_timesteps(200, [10])
    spaced, timestep_map = respace(base, kept)
    assert timestep_map.tolist() == kept
    torch.testing.assert_close(spaced.alphas_cumprod, base.alphas_cumprod[timestep_map], rtol=1e-12, atol=0)


def test_respacing_needs_two_steps() -> None:
    base = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=20))
    with pytest.raises(UserError, match="at least 2"):
        respace(base, [0])

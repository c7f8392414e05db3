"""DiffuSeq's ``clamp_step`` rule, shared by the ancestral and DDIM samplers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dlmkit.samplers.rounding_rule import rounds_at


@given(st.integers(0, 4000), st.integers(0, 4000))
def test_the_two_directions_split_the_chain_and_meet_at_the_clamp_step(t: int, clamp: int) -> None:
    first, last = rounds_at(t, clamp, clamp_first=True), rounds_at(t, clamp, clamp_first=False)
    assert first or last, "every timestep rounds in one direction or the other"
    assert (first and last) == (t == clamp)
    assert first == (t >= clamp)


@given(st.integers(0, 4000), st.integers(0, 4000), st.booleans())
def test_rounding_off_never_rounds(t: int, clamp: int, first: bool) -> None:
    assert not rounds_at(t, clamp, first, rounding=False)


@given(st.integers(0, 4000))
def test_the_default_clamp_step_rounds_every_step(t: int) -> None:
    assert rounds_at(t, 0, clamp_first=True)

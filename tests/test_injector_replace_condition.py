"""``replace_condition``: the true condition overrides generated condition positions, bit for bit."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dlmkit.errors import UserError
from dlmkit.injectors.replace_condition import ReplaceCondition
from dlmkit.interfaces import ConditioningInjector
from dlmkit.testing.strategies import arbitrary_masks, seeded_normal

SHAPES = st.tuples(st.integers(1, 4), st.integers(2, 9), st.integers(1, 5))


@st.composite
def cases(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    b, length, d = draw(SHAPES)
    seed = draw(st.integers(0, 2**31 - 1))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    mask = draw(arbitrary_masks(b, length))
    return seeded_normal((b, length, d), seed, dtype, 3.0), seeded_normal((b, length, d), seed + 1, dtype), mask


def test_is_a_conditioning_injector() -> None:
    assert isinstance(ReplaceCondition(), ConditioningInjector)


@given(cases())
def test_generated_copies_the_condition_and_leaves_targets_untouched(case: tuple[torch.Tensor, ...]) -> None:
    x_gen, x_cond, mask = case
    out = ReplaceCondition().generated(x_gen, x_cond, mask)
    cond = mask == 0
    assert torch.equal(out[cond], x_cond[cond])
    assert torch.equal(out[~cond], x_gen[~cond])


@given(cases())
def test_noised_keeps_the_condition_clean(case: tuple[torch.Tensor, ...]) -> None:
    x_t, x0, mask = case
    out = ReplaceCondition().noised(x_t, x0, mask)
    cond = mask == 0
    assert torch.equal(out[cond], x0[cond])
    assert torch.equal(out[~cond], x_t[~cond])


def test_no_gradient_reaches_the_generator_through_condition_positions() -> None:
    x_gen = torch.randn(2, 5, 3, requires_grad=True)
    mask = torch.tensor([[0, 0, 1, 1, 1], [0, 1, 1, 1, 1]])
    ReplaceCondition().generated(x_gen, torch.randn(2, 5, 3), mask).sum().backward()
    assert x_gen.grad is not None
    assert torch.equal(x_gen.grad, mask[..., None].expand(2, 5, 3).float())


@pytest.mark.parametrize("expand", ["unsqueeze", "full"])
def test_expanded_masks_give_the_same_result(expand: str) -> None:
    x_gen, x_cond = torch.randn(2, 4, 3), torch.randn(2, 4, 3)
    mask = torch.tensor([[0, 1, 1, 1], [0, 0, 1, 1]])
    wide = mask[..., None] if expand == "unsqueeze" else mask[..., None].expand(2, 4, 3)
    injector = ReplaceCondition()
    assert torch.equal(injector.generated(x_gen, x_cond, wide), injector.generated(x_gen, x_cond, mask))


def test_a_mask_of_the_wrong_shape_is_reported() -> None:
    with pytest.raises(UserError, match=r"mask of shape \(2, 3\).*\[B, L\]"):
        ReplaceCondition().generated(torch.randn(2, 4, 3), torch.randn(2, 4, 3), torch.ones(2, 3))

"""``partial_noising``: DiffuSeq's anchored forward process; generated sequences pass through."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from dlmkit.injectors.partial_noising import PartialNoising
from dlmkit.interfaces import ConditioningInjector, DistillContext
from dlmkit.testing.strategies import condition_masks, seeded_normal
from tests.test_objective_toys import T, sqrt_schedule


def test_is_a_conditioning_injector() -> None:
    assert isinstance(PartialNoising(), ConditioningInjector)


def test_generated_is_left_as_the_generator_wrote_it() -> None:
    x_gen = torch.randn(2, 4, 3, requires_grad=True)
    out = PartialNoising().generated(x_gen, torch.zeros(2, 4, 3), torch.tensor([[0, 1, 1, 1], [0, 0, 1, 1]]))
    assert out is x_gen


@given(st.integers(1, 3), st.integers(2, 8), st.integers(0, T - 1), st.integers(0, 2**31 - 1), st.data())
def test_context_noising_keeps_condition_at_x0_and_noises_targets(
    batch: int, length: int, t: int, seed: int, data: st.DataObject
) -> None:
    mask = data.draw(condition_masks(batch, length))
    x0, eps = seeded_normal((batch, length, 4), seed), seeded_normal((batch, length, 4), seed + 1)
    schedule = sqrt_schedule()
    ctx = DistillContext(
        teacher=None,  # type: ignore[arg-type]
        psi=None,  # type: ignore[arg-type]
        schedule=schedule,
        injector=PartialNoising(),
        mask=mask,
        x_gen=x0,
        x_real=x0,
        real_mask=mask,
        sample_t=lambda b: torch.full((b,), t),
    )
    steps = torch.full((batch,), t)
    out = ctx.noised(x0, steps, eps, mask)
    abar = schedule.alphas_cumprod[t]
    expected = abar.sqrt() * x0 + (1 - abar).sqrt() * eps
    cond = mask == 0
    assert torch.equal(out[cond], x0[cond])
    torch.testing.assert_close(out[~cond], expected[~cond])

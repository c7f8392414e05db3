"""Every seeded draw is device-correct: a generator never meets a tensor of another device type.

A CPU-only suite cannot run CUDA, so the drawing primitives are driven with targets on the ``meta``
device while their generators stay on the CPU, which is the CUDA situation in miniature: before the
fix, ``DistillContext.noise_like`` drew onto the target's device with the CPU generator and the
distillation stopped at its first psi update on a GPU.  ``StrictRandomness`` also wraps every
distillation, pipeline and sampler test (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from dlmkit.injectors.replace_condition import ReplaceCondition
from dlmkit.interfaces import DistillContext
from dlmkit.randomness import randint, randn, randn_like
from dlmkit.samplers.noise import SeededNoise
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.testing.device_randomness import GeneratorDeviceMismatch, StrictRandomness
from dlmkit.timestep_samplers import LossAwareTimesteps, UniformTimesteps

META = torch.device("meta")


@pytest.mark.parametrize(
    "draw",
    [
        lambda g: torch.randn(3, generator=g, device=META),
        lambda g: torch.randint(0, 5, (3,), generator=g, device=META),
        lambda g: torch.empty(3, device=META).normal_(generator=g),
        lambda g: torch.rand_like(torch.empty(3, device=META), generator=g),
    ],
)
def test_the_guard_names_a_generator_aimed_at_another_device(draw: Callable[[torch.Generator], object]) -> None:
    with StrictRandomness(), pytest.raises(GeneratorDeviceMismatch, match="onto meta with a cpu generator"):
        draw(torch.Generator())


def test_the_guard_lets_matching_draws_through_and_counts_them() -> None:
    with StrictRandomness() as guard:
        torch.randn(3, generator=torch.Generator())
        torch.randn(3)  # no generator: nothing to check
    assert guard.checked == 1


def _context(x: torch.Tensor, generator: torch.Generator) -> DistillContext:
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=100))
    mask = torch.ones(x.shape[:2], dtype=torch.long, device=x.device)
    return DistillContext(
        teacher=None,  # type: ignore[arg-type]
        psi=None,  # type: ignore[arg-type]
        schedule=schedule,
        injector=ReplaceCondition(),
        mask=mask,
        x_gen=x,
        x_real=x,
        real_mask=mask,
        sample_t=lambda n: schedule.sample_timesteps(n, 0, 99, generator=generator, device=x.device),
        generator=generator,
    )


def test_distillation_noise_and_timesteps_land_on_the_target_device() -> None:
    x = torch.empty(2, 5, 4, device=META)
    ctx = _context(x, torch.Generator().manual_seed(0))
    with StrictRandomness() as guard:
        noise = ctx.noise_like(x)
        t = ctx.sample_t(2)
    assert noise.device == META and noise.shape == x.shape
    assert t.device == META and t.dtype == torch.long
    assert guard.checked == 2


def test_teacher_training_timesteps_land_on_the_target_device() -> None:
    aware = LossAwareTimesteps(10, history=1)
    aware.update(torch.arange(10), torch.rand(10))
    with StrictRandomness() as guard:
        for sampler in (UniformTimesteps(10), aware):
            t, weights = sampler.sample(4, torch.Generator().manual_seed(0), META)
            assert t.device == META and weights.device == META
    assert guard.checked == 2


def test_sampler_noise_and_helpers_land_on_the_target_device() -> None:
    like = torch.empty(2, 3, device=META)
    with StrictRandomness() as guard:
        assert SeededNoise(torch.Generator().manual_seed(0)).initial(like.shape, like).device == META
        assert randn_like(like, torch.Generator()).device == META
        assert randn((2,), torch.Generator(), META).device == META
        assert randint(0, 4, (2,), torch.Generator(), META).device == META
    assert guard.checked == 4


def test_seeded_draws_do_not_depend_on_the_target_device() -> None:
    """Drawing on the generator's device keeps a seed's numbers the same wherever the tensor goes."""
    on_cpu = randn((4,), torch.Generator().manual_seed(5), "cpu")
    again = randn((4,), torch.Generator().manual_seed(5), "cpu")
    assert torch.equal(on_cpu, again)
    assert randn((4,), torch.Generator().manual_seed(5), META).shape == on_cpu.shape

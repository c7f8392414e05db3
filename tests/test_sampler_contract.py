"""Properties every built-in sampler shares, checked with the public sampler contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

from dlmkit.interfaces import Batch, Sampler
from dlmkit.samplers import (
    AncestralParams,
    AncestralSampler,
    DDIMGapParams,
    DDIMGapSampler,
    DDIMParams,
    DDIMSampler,
    DPMSolverPPParams,
    DPMSolverPPSampler,
    OneStepParams,
    OneStepSampler,
    StudentMultistepParams,
    StudentMultistepSampler,
    register_samplers,
)
from dlmkit.samplers.noise import SeededNoise
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.testing.denoisers import OracleDenoiser, SpyDenoiser
from dlmkit.testing.sampler_contract import check_sampler
from dlmkit.testing.toy_teacher import ToyTeacherParams, build_toy_teacher

T = 40
VOCAB, LENGTH = 23, 8

SAMPLERS: dict[str, Callable[[], Any]] = {
    "ancestral": lambda: AncestralSampler(AncestralParams()),
    "ancestral_respaced": lambda: AncestralSampler(AncestralParams(steps=7)),
    "ancestral_top_p": lambda: AncestralSampler(AncestralParams(top_p=1.0, clamp_step=20)),
    "ddim": lambda: DDIMSampler(DDIMParams(steps=6)),
    "ddim_eta": lambda: DDIMSampler(DDIMParams(steps=6, eta=1.0, round_every_step=False)),
    "ddim_gap": lambda: DDIMGapSampler(DDIMGapParams(steps=7)),
    "dpm_solver_pp": lambda: DPMSolverPPSampler(DPMSolverPPParams(steps=5)),
    "dpm_solver_pp_12": lambda: DPMSolverPPSampler(DPMSolverPPParams(steps=12)),
    "one_step": lambda: OneStepSampler(OneStepParams(t_init=30)),
    "student_multistep": lambda: StudentMultistepSampler(StudentMultistepParams(t_init=30, steps=4)),
}


@pytest.fixture(scope="module")
def schedule():  # type: ignore[no-untyped-def]
    return build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))


@pytest.fixture(scope="module")
def teacher():  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    return build_toy_teacher(ToyTeacherParams(num_timesteps=T), vocab_size=VOCAB, seq_len=LENGTH).eval()


@pytest.fixture(scope="module")
def batch() -> Batch:
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, VOCAB, (3, LENGTH), generator=g)
    mask = torch.tensor([[0, 0, 0, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1, 1, 1], [0, 1, 1, 1, 1, 1, 1, 1]])
    return Batch(ids, mask)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_sampler_contract_on_the_toy_teacher(name: str, teacher, batch: Batch, schedule) -> None:  # type: ignore[no-untyped-def]
    sampler = SAMPLERS[name]()
    assert isinstance(sampler, Sampler)
    check_sampler(sampler, teacher, batch, schedule)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_different_seeds_give_different_noise(name: str, teacher, batch: Batch, schedule) -> None:  # type: ignore[no-untyped-def]
    # Guards the replay test against a sampler that ignores its noise altogether.
    sampler = SAMPLERS[name]()
    spy_a, spy_b = SpyDenoiser(teacher, keep_inputs=True), SpyDenoiser(teacher, keep_inputs=True)
    sampler.sample(spy_a, batch, schedule, SeededNoise(0))
    sampler.sample(spy_b, batch, schedule, SeededNoise(1))
    assert not torch.equal(spy_a.inputs[0], spy_b.inputs[0])


@pytest.mark.parametrize(
    "name", ["ancestral", "ancestral_respaced", "ddim", "ddim_eta", "dpm_solver_pp", "dpm_solver_pp_12"]
)
def test_oracle_denoiser_target_is_recovered(name: str, batch: Batch, schedule) -> None:  # type: ignore[no-untyped-def]
    g = torch.Generator().manual_seed(3)
    table = torch.randn(VOCAB, 4, generator=g)
    answer = torch.randint(0, VOCAB, batch.input_ids.shape, generator=g)
    oracle = OracleDenoiser(table, answer, T)
    ids = SAMPLERS[name]().sample(oracle, batch, schedule, SeededNoise(5))
    target = batch.input_mask == 1
    assert torch.equal(ids[target], answer[target])


def test_oracle_recovery_fails_without_rounding_at_an_early_stop(batch: Batch, schedule) -> None:  # type: ignore[no-untyped-def]
    # The gap loop stops at t = gap - 1 with a partly noised state; with a large gap and no
    # chance to round the final state, the oracle's answer is generally *not* what comes out.
    g = torch.Generator().manual_seed(3)
    table = torch.randn(VOCAB, 4, generator=g)
    answer = torch.randint(0, VOCAB, batch.input_ids.shape, generator=g)
    oracle = OracleDenoiser(table, answer, T)
    ids = DDIMGapSampler(DDIMGapParams(steps=2)).sample(oracle, batch, schedule, SeededNoise(5))
    target = batch.input_mask == 1
    assert not torch.equal(ids[target], answer[target])


def test_mismatched_timesteps_are_a_user_error(batch: Batch, schedule) -> None:  # type: ignore[no-untyped-def]
    from dlmkit.errors import UserError

    other = build_toy_teacher(ToyTeacherParams(num_timesteps=T + 1), vocab_size=VOCAB, seq_len=LENGTH)
    with pytest.raises(UserError, match=f"num_timesteps = {T + 1}"):
        AncestralSampler().sample(other, batch, schedule, SeededNoise(0))


def test_registration_hook_offers_every_sampler() -> None:
    seen: dict[str, Any] = {}

    def register(name, factory, params=None, summary="", override=False):  # type: ignore[no-untyped-def]
        assert summary and params is not None
        seen[name] = factory(params())

    register_samplers(register)
    assert set(seen) == {"one_step", "student_multistep", "ancestral", "ddim_gap", "ddim", "dpm_solver_pp"}
    assert all(isinstance(s, Sampler) for s in seen.values())
    assert seen["one_step"].nfe() == 1
    assert seen["student_multistep"].nfe() == 2
    assert seen["ddim_gap"].nfe(2000) == 100
    assert seen["ancestral"].nfe(2000) == 2000
    assert seen["ddim"].nfe() == 50
    assert seen["dpm_solver_pp"].nfe() == 10


class _KeepsStates(AncestralSampler):
    """Keeps every state, as the official p_sample_loop does."""

    def sample(self, model, batch, schedule, noise):  # type: ignore[no-untyped-def]
        kept: list[torch.Tensor] = []

        class Hoarder(SpyDenoiser):
            def denoise(self, x_t, t):  # type: ignore[no-untyped-def]
                kept.append(x_t)
                return super().denoise(x_t, t)

        return super().sample(Hoarder(model), batch, schedule, noise)


def test_contract_detects_kept_states(teacher, batch: Batch, schedule) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AssertionError, match="states are being kept"):
        check_sampler(_KeepsStates(AncestralParams(steps=10)), teacher, batch, schedule)


def test_contract_detects_a_leaked_answer(teacher, batch: Batch, schedule) -> None:  # type: ignore[no-untyped-def]
    class Leaky(OneStepSampler):
        def sample(self, model, batch, schedule, noise):  # type: ignore[no-untyped-def]
            noise.initial((*batch.input_ids.shape, model.embed_dim), model.embed(batch.input_ids))
            x = model.denoise(model.embed(batch.input_ids), torch.zeros(len(batch), dtype=torch.long))
            return torch.where(batch.input_mask == 0, batch.input_ids, model.logits(x).argmax(-1))

    with pytest.raises(AssertionError, match="leaked"):
        check_sampler(Leaky(OneStepParams(t_init=30)), teacher, batch, schedule)

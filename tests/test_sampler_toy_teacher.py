"""The toy teacher: a tiny real transformer that satisfies the Teacher contract."""

from __future__ import annotations

import math

import pytest
import torch

from dlmkit.errors import UserError
from dlmkit.interfaces import Teacher
from dlmkit.nn import timestep_embedding
from dlmkit.testing.toy_teacher import ToyTeacher, ToyTeacherParams, build_toy_teacher


@pytest.fixture
def toy() -> ToyTeacher:
    torch.manual_seed(0)
    return build_toy_teacher(ToyTeacherParams(num_timesteps=100), vocab_size=30, seq_len=10)


def test_satisfies_the_teacher_contract_and_stays_tiny(toy: ToyTeacher) -> None:
    assert isinstance(toy, Teacher)
    assert toy.component == "toy"
    assert (toy.vocab_size, toy.seq_len, toy.embed_dim, toy.num_timesteps) == (30, 10, 16, 100)
    assert sum(p.numel() for p in toy.parameters()) < 12_000


def test_embedding_and_lm_head_are_tied_with_a_separate_bias(toy: ToyTeacher) -> None:
    assert toy.lm_head.weight is toy.embedding_weight
    x = torch.randn(2, 10, 16)
    expected = x @ toy.embedding_weight.T + toy.lm_head.bias
    torch.testing.assert_close(toy.logits(x), expected)


def test_time_embedding_puts_cosines_first() -> None:
    t = torch.tensor([0.0, 3.5])
    emb = timestep_embedding(t, 8)
    freqs = [math.exp(-math.log(10000.0) * k / 4) for k in range(4)]
    expected = [[math.cos(v * f) for f in freqs] + [math.sin(v * f) for f in freqs] for v in (0.0, 3.5)]
    torch.testing.assert_close(emb, torch.tensor(expected))


def test_denoise_uses_rescaled_model_time(toy: ToyTeacher) -> None:
    toy.eval()
    x = torch.randn(2, 10, 16)
    t = torch.tensor([3, 77])
    by_step = toy.denoise(x, t)
    by_time = toy.denoise_at_model_time(x, t.float() * 1000 / 100)
    torch.testing.assert_close(by_step, by_time)
    x0, features = toy.denoise_with_features(x, t)
    torch.testing.assert_close(x0, by_step)
    assert features.shape == (2, 10, 32)
    assert not torch.allclose(by_step, toy.denoise(x, t + 1)), "the prediction must depend on t"


def test_round_picks_the_nearest_embedding(toy: ToyTeacher) -> None:
    x = torch.randn(3, 10, 16)
    table = toy.embedding_weight.detach()
    brute = torch.stack([torch.stack([(table - v).norm(dim=-1).argmin() for v in row]) for row in x])
    assert torch.equal(toy.round(x), brute)
    assert torch.equal(toy.round(toy.embed(brute)), brute)


def test_state_dict_round_trip_rebuilds_from_config(toy: ToyTeacher) -> None:
    rebuilt = ToyTeacher(toy.config)
    rebuilt.load_state_dict(toy.state_dict())
    toy.eval(), rebuilt.eval()
    x, t = torch.randn(1, 10, 16), torch.tensor([5])
    torch.testing.assert_close(rebuilt.denoise(x, t), toy.denoise(x, t))
    assert toy.config.vocab_size == 30 and toy.config.seq_len == 10


def test_build_resolves_and_checks_sizes() -> None:
    bigger = build_toy_teacher(ToyTeacherParams(vocab_size=40), vocab_size=30, seq_len=6)
    assert bigger.vocab_size == 40
    with pytest.raises(UserError, match=r"teacher\.vocab_size = 20"):
        build_toy_teacher(ToyTeacherParams(vocab_size=20), vocab_size=30, seq_len=6)
    with pytest.raises(UserError, match=r"teacher\.seq_len"):
        build_toy_teacher(ToyTeacherParams(), vocab_size=30)


def test_params_validate() -> None:
    with pytest.raises(ValueError, match="num_heads"):
        ToyTeacherParams(num_heads=3)
    with pytest.raises(ValueError, match="even"):
        ToyTeacherParams(embed_dim=15)
    with pytest.raises(ValueError):
        ToyTeacherParams(dropout=1.0)

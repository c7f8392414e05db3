"""DiffuSeqTeacher: the Teacher contract, timestep rescaling, rounding, the registry factory, params."""

from __future__ import annotations

import attrs
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor

from dlmkit.errors import UserError
from dlmkit.interfaces import Denoiser, Teacher
from dlmkit.nn import nearest_embedding
from dlmkit_diffuseq.params import DiffuSeqParams
from dlmkit_diffuseq.teacher import DiffuSeqTeacher, build_teacher


def test_satisfies_the_teacher_protocol(small_params: DiffuSeqParams) -> None:
    teacher = build_teacher(attrs.evolve(small_params, vocab_size=None), vocab_size=40, seq_len=10)
    assert isinstance(teacher, Teacher) and isinstance(teacher, Denoiser)
    assert teacher.component == "diffuseq"
    assert teacher.config == small_params
    assert (teacher.num_timesteps, teacher.seq_len, teacher.embed_dim, teacher.vocab_size) == (2000, 10, 8, 40)
    assert teacher.embedding_weight is teacher.word_embedding.weight is teacher.lm_head.weight


def test_state_dict_has_official_keys_without_prefix(small_params: DiffuSeqParams) -> None:
    keys = list(DiffuSeqTeacher(small_params).state_dict())
    assert keys[:3] == ["position_ids", "word_embedding.weight", "lm_head.weight"]
    assert all(not k.startswith(("model.", "net.", "module.")) for k in keys)


@pytest.mark.parametrize("num_timesteps", [2000, 1000, 7])
def test_denoise_rescales_integer_timesteps_to_model_time(small_params: DiffuSeqParams, num_timesteps: int) -> None:
    teacher = DiffuSeqTeacher(attrs.evolve(small_params, num_timesteps=num_timesteps)).eval()
    x = torch.randn(3, 10, 8)
    t = torch.tensor([0, 1, num_timesteps - 1])
    expected = teacher(x, torch.tensor([n * 1000.0 / num_timesteps for n in t.tolist()]))
    torch.testing.assert_close(teacher.denoise(x, t), expected)
    torch.testing.assert_close(teacher.denoise_at_model_time(x, t * 1000.0 / num_timesteps), expected)
    if num_timesteps == 2000:
        assert teacher.model_time(t).tolist() == [0.0, 0.5, 999.5]


def test_denoise_with_features_is_one_forward_returning_encoder_output(small_params: DiffuSeqParams) -> None:
    teacher = DiffuSeqTeacher(small_params).eval()
    seen: list[Tensor] = []
    teacher.input_transformers.register_forward_hook(lambda _m, _i, out: seen.append(out))
    x, t = torch.randn(2, 10, 8), torch.tensor([5, 1500])
    x0, hidden = teacher.denoise_with_features(x, t)
    assert len(seen) == 1 and hidden.shape == (2, 10, 16)
    torch.testing.assert_close(hidden, seen[0])
    torch.testing.assert_close(x0, teacher.denoise(x, t))


def test_scalar_timestep_applies_to_the_whole_batch(small_params: DiffuSeqParams) -> None:
    teacher = DiffuSeqTeacher(small_params).eval()
    x = torch.randn(2, 10, 8)
    torch.testing.assert_close(teacher.denoise(x, torch.tensor(7)), teacher.denoise(x, torch.tensor([7, 7])))


def test_embed_and_logits_use_the_tied_table(small_params: DiffuSeqParams) -> None:
    teacher = DiffuSeqTeacher(small_params)
    ids = torch.tensor([[0, 3, 39]])
    torch.testing.assert_close(teacher.embed(ids), teacher.embedding_weight[ids])
    x = torch.randn(1, 3, 8)
    torch.testing.assert_close(teacher.logits(x), x @ teacher.embedding_weight.T + teacher.lm_head.bias)


def _brute_force_distances(x: Tensor, table: Tensor) -> Tensor:
    diff = x.double().reshape(-1, 1, x.shape[-1]) - table.double()[None]
    return (diff**2).sum(-1)


@settings(max_examples=40, deadline=None)
@given(
    vocab=st.integers(1, 30),
    dim=st.integers(1, 6),
    positions=st.integers(1, 12),
    scale=st.sampled_from([0.01, 1.0, 30.0]),
    max_elements=st.integers(1, 200),
    seed=st.integers(0, 2**16),
)
def test_rounding_equals_brute_force_argmin(
    vocab: int, dim: int, positions: int, scale: float, max_elements: int, seed: int
) -> None:
    gen = torch.Generator().manual_seed(seed)
    table = scale * torch.randn(vocab, dim, generator=gen)
    x = scale * torch.randn(2, positions, dim, generator=gen)
    ids = nearest_embedding(x, table, max_elements=max_elements)
    assert ids.shape == (2, positions) and ids.dtype == torch.long
    assert torch.equal(ids, nearest_embedding(x, table))  # chunking never changes the answer
    dist = _brute_force_distances(x, table)
    best = dist.min(dim=1)
    chosen = dist.gather(1, ids.reshape(-1, 1)).squeeze(1)
    tolerance = 1e-5 * (1.0 + dist.max(dim=1).values)
    assert torch.all(chosen <= best.values + tolerance)
    sorted_dist = dist.sort(dim=1).values
    clear = (
        (sorted_dist[:, 1] - sorted_dist[:, 0] > tolerance) if vocab > 1 else torch.ones_like(chosen, dtype=torch.bool)
    )
    assert torch.equal(ids.reshape(-1)[clear], best.indices[clear])


def test_teacher_round_recovers_ids_of_slightly_noisy_embeddings(small_params: DiffuSeqParams) -> None:
    teacher = DiffuSeqTeacher(small_params)
    ids = torch.randint(0, 40, (3, 10))
    noisy = teacher.embed(ids).detach() + 1e-3 * torch.randn(3, 10, 8)
    assert torch.equal(teacher.round(noisy), ids)
    assert torch.equal(teacher.round(noisy, max_elements=40), ids)


def test_build_teacher_takes_vocab_from_tokenizer_unless_params_set_it(small_params: DiffuSeqParams) -> None:
    unset = attrs.evolve(small_params, vocab_size=None)
    assert build_teacher(unset, vocab_size=33, seq_len=10).vocab_size == 33
    assert build_teacher(unset, vocab_size=33, seq_len=10).config.vocab_size == 33
    assert build_teacher(attrs.evolve(small_params, vocab_size=50), vocab_size=33, seq_len=10).vocab_size == 50
    with pytest.raises(UserError, match="vocab_size = 20 is smaller than the tokenizer's vocabulary"):
        build_teacher(attrs.evolve(small_params, vocab_size=20), vocab_size=33, seq_len=10)


def test_build_teacher_refuses_a_seq_len_that_differs_from_the_data(small_params: DiffuSeqParams) -> None:
    with pytest.raises(UserError, match="set seq_len = 12 in \\[teacher\\]"):
        build_teacher(small_params, vocab_size=40, seq_len=12)


def test_build_teacher_initialises_fresh_weights(small_params: DiffuSeqParams) -> None:
    a = build_teacher(small_params, vocab_size=40, seq_len=10)
    b = build_teacher(small_params, vocab_size=40, seq_len=10)
    assert not torch.equal(a.embedding_weight, b.embedding_weight)
    assert a.embedding_weight.std().item() == pytest.approx(1.0, abs=0.2)  # nn.Embedding's N(0, 1), spec §1.6


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hidden_size": 30, "num_heads": 4}, "multiple of num_heads"),
        ({"init_encoder": "bert"}, "init_encoder must be one of"),
        ({"seq_len": 600}, "exceeds max_position"),
        ({"dropout": 1.0}, "dropout must lie in"),
        ({"embed_dim": 0}, "embed_dim must be a positive integer"),
        ({"vocab_size": -3}, "vocab_size must be a positive integer"),
        ({"layer_norm_eps": 0.0}, "layer_norm_eps must be > 0"),
    ],
)
def test_params_reject_bad_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DiffuSeqParams(**changes)  # type: ignore[arg-type]


def test_params_reject_wrong_types() -> None:
    with pytest.raises(TypeError, match="num_layers must be an integer"):
        DiffuSeqParams(num_layers=2.5)  # type: ignore[arg-type]

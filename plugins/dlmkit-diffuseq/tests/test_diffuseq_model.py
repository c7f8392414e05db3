"""TransformerNetModel: the released key layout, parameter count, tie, and time features (spec §1)."""

from __future__ import annotations

import math

import pytest
import torch

from dlmkit.nn import timestep_embedding
from dlmkit_diffuseq.model import TransformerNetModel
from dlmkit_diffuseq.params import DiffuSeqParams

LAYER_PARTS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "attention.output.LayerNorm",
    "intermediate.dense",
    "output.dense",
    "output.LayerNorm",
)


def released_keys_and_shapes() -> list[tuple[str, list[int]]]:
    """Spec §1.2's table, in state-dict order, for hidden_dim 128 on BERT-base with vocab 30522."""
    rows: list[tuple[str, list[int]]] = [
        ("position_ids", [1, 512]),
        ("word_embedding.weight", [30522, 128]),
        ("lm_head.weight", [30522, 128]),
        ("lm_head.bias", [30522]),
        ("time_embed.0.weight", [512, 128]),
        ("time_embed.0.bias", [512]),
        ("time_embed.2.weight", [768, 512]),
        ("time_embed.2.bias", [768]),
        ("input_up_proj.0.weight", [768, 128]),
        ("input_up_proj.0.bias", [768]),
        ("input_up_proj.2.weight", [768, 768]),
        ("input_up_proj.2.bias", [768]),
    ]
    for i in range(12):
        for part in LAYER_PARTS:
            prefix = f"input_transformers.layer.{i}.{part}"
            if part.endswith("LayerNorm"):
                rows += [(f"{prefix}.weight", [768]), (f"{prefix}.bias", [768])]
            elif part == "intermediate.dense":
                rows += [(f"{prefix}.weight", [3072, 768]), (f"{prefix}.bias", [3072])]
            elif part == "output.dense":
                rows += [(f"{prefix}.weight", [768, 3072]), (f"{prefix}.bias", [768])]
            else:
                rows += [(f"{prefix}.weight", [768, 768]), (f"{prefix}.bias", [768])]
    rows += [
        ("position_embeddings.weight", [512, 768]),
        ("LayerNorm.weight", [768]),
        ("LayerNorm.bias", [768]),
        ("output_down_proj.0.weight", [768, 768]),
        ("output_down_proj.0.bias", [768]),
        ("output_down_proj.2.weight", [128, 768]),
        ("output_down_proj.2.bias", [128]),
    ]
    return rows


def test_released_configuration_has_the_211_official_keys_and_91m_parameters() -> None:
    with torch.device("meta"):
        model = TransformerNetModel(DiffuSeqParams(vocab_size=30522))
    state = model.state_dict()
    expected = released_keys_and_shapes()
    assert len(expected) == 211
    assert [(k, list(v.shape)) for k, v in state.items()] == expected
    assert state["position_ids"].dtype == torch.int64
    assert sum(p.numel() for p in model.parameters()) == 91_225_274


def test_released_configuration_position_ids_buffer_is_persistent_arange() -> None:
    model = TransformerNetModel(DiffuSeqParams(vocab_size=30522, num_layers=1))
    assert torch.equal(model.state_dict()["position_ids"], torch.arange(512).view(1, 512))


def test_lm_head_weight_is_tied_and_bias_is_not(small_params: DiffuSeqParams) -> None:
    model = TransformerNetModel(small_params)
    assert model.lm_head.weight is model.word_embedding.weight
    assert model.lm_head.bias.shape == (40,)
    names = [name for name, _ in model.named_parameters()]
    assert "lm_head.weight" not in names and "lm_head.bias" in names
    h = torch.randn(2, 3, 8)
    expected = h @ model.word_embedding.weight.T + model.lm_head.bias
    torch.testing.assert_close(model.get_logits(h), expected)


def test_no_projections_when_embed_dim_equals_hidden_size() -> None:
    params = DiffuSeqParams(embed_dim=16, hidden_t_dim=4, hidden_size=16, num_layers=1, num_heads=2,
                            intermediate_size=8, max_position=16, seq_len=8, vocab_size=11)  # fmt: skip
    model = TransformerNetModel(params).eval()
    keys = model.state_dict().keys()
    assert not any(k.startswith(("input_up_proj", "output_down_proj")) for k in keys)
    x = torch.randn(2, 5, 16)
    out, hidden = model.forward_with_hidden(x, torch.tensor([3.0, 7.5]))
    torch.testing.assert_close(out, hidden)


def test_forward_output_shape_and_dtype(small_params: DiffuSeqParams) -> None:
    model = TransformerNetModel(small_params).eval()
    out = model(torch.randn(3, 10, 8), torch.tensor([0.0, 10.5, 999.5]))
    assert out.shape == (3, 10, 8) and out.dtype == torch.float32


@pytest.mark.parametrize("dim", [128, 6, 7])
def test_time_embedding_is_cosines_then_sines(dim: int) -> None:
    t = torch.tensor([0.0, 0.5, 17.0, 999.5])
    features = timestep_embedding(t, dim)
    half = dim // 2
    assert features.shape == (4, dim)
    for row, time in enumerate(t.tolist()):
        for k in range(half):
            freq = math.exp(-math.log(10000.0) * k / half)
            assert features[row, k].item() == pytest.approx(math.cos(time * freq), abs=2e-4)
            assert features[row, half + k].item() == pytest.approx(math.sin(time * freq), abs=2e-4)
    if dim % 2:
        assert torch.all(features[:, -1] == 0)
    assert torch.all(features[0, :half] == 1) and torch.all(features[0, half : 2 * half] == 0)


def test_time_embedding_feeds_the_network(small_params: DiffuSeqParams) -> None:
    model = TransformerNetModel(small_params).eval()
    x = torch.randn(1, 10, 8)
    assert not torch.allclose(model(x, torch.tensor([0.0])), model(x, torch.tensor([500.0])))

"""Numerical parity with a reference assembled from transformers' own ``BertEncoder``."""

from __future__ import annotations

import math

import attrs
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from dlmkit_diffuseq.model import TransformerNetModel
from dlmkit_diffuseq.params import DiffuSeqParams

transformers = pytest.importorskip("transformers")
modeling_bert = pytest.importorskip("transformers.models.bert.modeling_bert")


def hf_encoder(params: DiffuSeqParams) -> torch.nn.Module:
    config = transformers.BertConfig(
        hidden_size=params.hidden_size,
        num_hidden_layers=params.num_layers,
        num_attention_heads=params.num_heads,
        intermediate_size=params.intermediate_size,
        hidden_act="gelu",
        hidden_dropout_prob=params.dropout,
        attention_probs_dropout_prob=params.attention_dropout,
        max_position_embeddings=params.max_position,
        layer_norm_eps=params.layer_norm_eps,
    )
    config._attn_implementation = "eager"
    return modeling_bert.BertEncoder(config)


def reference_forward(model: TransformerNetModel, encoder: torch.nn.Module, x: Tensor, model_time: Tensor) -> Tensor:
    """Spec §1.3 written out independently, with HF's encoder in the middle."""
    p = model.params
    half = p.hidden_t_dim // 2
    freqs = torch.tensor([math.exp(-math.log(10000.0) * k / half) for k in range(half)])
    args = model_time[:, None] * freqs[None]
    features = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    emb_t = linear(model.time_embed[2], F.silu(linear(model.time_embed[0], features)))
    assert model.input_up_proj is not None and model.output_down_proj is not None
    emb_x = linear(model.input_up_proj[2], torch.tanh(linear(model.input_up_proj[0], x)))
    length = x.shape[1]
    h = model.position_embeddings.weight[:length][None] + emb_x + emb_t[:, None, :]
    h = F.layer_norm(h, (p.hidden_size,), model.LayerNorm.weight, model.LayerNorm.bias, p.layer_norm_eps)
    h = encoder(h).last_hidden_state
    return linear(model.output_down_proj[2], torch.tanh(linear(model.output_down_proj[0], h)))


def linear(layer: torch.nn.Module, x: Tensor) -> Tensor:
    assert isinstance(layer, torch.nn.Linear)
    return F.linear(x, layer.weight, layer.bias)


def test_encoder_state_dict_keys_equal_hf(small_params: DiffuSeqParams) -> None:
    ours = TransformerNetModel(small_params).input_transformers.state_dict()
    theirs = hf_encoder(small_params).state_dict()
    assert [(k, v.shape) for k, v in ours.items()] == [(k, v.shape) for k, v in theirs.items()]


def test_forward_matches_reference_built_on_hf_bert_encoder(small_params: DiffuSeqParams) -> None:
    torch.manual_seed(0)
    model = TransformerNetModel(small_params).eval()
    encoder = hf_encoder(small_params).eval()
    encoder.load_state_dict(model.input_transformers.state_dict())
    x = torch.randn(3, 10, 8)
    model_time = torch.tensor([0.0, 123.5, 999.5])
    with torch.no_grad():
        expected = reference_forward(model, encoder, x, model_time)
        got, hidden = model.forward_with_hidden(x, model_time)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert hidden.shape == (3, 10, 16)


def test_encoder_alone_matches_hf_with_large_activations(small_params: DiffuSeqParams) -> None:
    torch.manual_seed(1)
    model = TransformerNetModel(small_params).eval()
    encoder = hf_encoder(small_params).eval()
    encoder.load_state_dict(model.input_transformers.state_dict())
    h = 5 * torch.randn(2, 7, 16)
    with torch.no_grad():
        torch.testing.assert_close(model.input_transformers(h), encoder(h).last_hidden_state, rtol=1e-5, atol=1e-5)


def test_dropout_acts_on_hidden_states_and_attention_probabilities(small_params: DiffuSeqParams) -> None:
    x, t = torch.randn(2, 10, 8), torch.tensor([1.0, 2.0])
    quiet = TransformerNetModel(attrs.evolve(small_params, dropout=0.0, attention_dropout=0.0)).train()
    torch.testing.assert_close(quiet(x, t), quiet(x, t))
    attention_only = TransformerNetModel(attrs.evolve(small_params, dropout=0.0, attention_dropout=0.5)).train()
    assert not torch.allclose(attention_only(x, t), attention_only(x, t))
    hidden_only = TransformerNetModel(attrs.evolve(small_params, dropout=0.5, attention_dropout=0.0)).train()
    assert not torch.allclose(hidden_only(x, t), hidden_only(x, t))
    hidden_only.eval()
    torch.testing.assert_close(hidden_only(x, t), hidden_only(x, t))

"""A BERT encoder stack in plain torch, with the module names and numerics of HF ``BertEncoder``.

DiffuSeq builds ``transformers.BertEncoder`` directly; re-implementing it keeps the plugin free of
``transformers`` while official state dicts (``layer.{i}.attention.self.query.weight`` ...) load
unchanged.  There is no attention mask: DiffuSeq lets every position, padding included, attend to
every other.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class BertSelfAttention(nn.Module):
    """Multi-head scaled dot-product attention; dropout acts on the attention probabilities."""

    def __init__(self, hidden_size: int, num_heads: int, attention_dropout: float) -> None:
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be a multiple of num_heads ({num_heads})")
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size)
        self.attention_dropout = attention_dropout

    def _heads(self, x: Tensor) -> Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, hidden: Tensor) -> Tensor:
        batch, length, width = hidden.shape
        context = F.scaled_dot_product_attention(
            self._heads(self.query(hidden)),
            self._heads(self.key(hidden)),
            self._heads(self.value(hidden)),
            dropout_p=self.attention_dropout if self.training else 0.0,
        )
        return context.transpose(1, 2).reshape(batch, length, width)


class ResidualOutput(nn.Module):
    """Projection, dropout, then the post-norm residual ``LayerNorm(x + block_in)``.

    HF spells this twice (``BertSelfOutput`` after attention, ``BertOutput`` after the feed-forward
    block); both have the keys ``dense`` and ``LayerNorm``, so one class serves as both.
    """

    def __init__(self, in_size: int, hidden_size: int, hidden_dropout: float, layer_norm_eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(in_size, hidden_size)
        self.LayerNorm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.dropout = nn.Dropout(hidden_dropout)

    def forward(self, hidden: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class BertAttention(nn.Module):
    """Attention block named as HF names it (``attention.self`` / ``attention.output``)."""

    def __init__(
        self, hidden_size: int, num_heads: int, hidden_dropout: float, attention_dropout: float, layer_norm_eps: float
    ) -> None:
        super().__init__()
        self.self = BertSelfAttention(hidden_size, num_heads, attention_dropout)
        self.output = ResidualOutput(hidden_size, hidden_size, hidden_dropout, layer_norm_eps)

    def forward(self, hidden: Tensor) -> Tensor:
        return self.output(self.self(hidden), hidden)


class BertIntermediate(nn.Module):
    """Feed-forward expansion with the exact (erf) GELU that BERT's ``"gelu"`` means."""

    def __init__(self, hidden_size: int, intermediate_size: int) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, intermediate_size)

    def forward(self, hidden: Tensor) -> Tensor:
        return F.gelu(self.dense(hidden))


class BertLayer(nn.Module):
    """One post-norm transformer layer: attention block, then feed-forward block."""

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        hidden_dropout: float,
        attention_dropout: float,
        layer_norm_eps: float,
    ) -> None:
        super().__init__()
        self.attention = BertAttention(hidden_size, num_heads, hidden_dropout, attention_dropout, layer_norm_eps)
        self.intermediate = BertIntermediate(hidden_size, intermediate_size)
        self.output = ResidualOutput(intermediate_size, hidden_size, hidden_dropout, layer_norm_eps)

    def forward(self, hidden: Tensor) -> Tensor:
        attended = self.attention(hidden)
        return self.output(self.intermediate(attended), attended)


class BertEncoder(nn.Module):
    """``num_layers`` BERT layers under ``layer.{i}``; returns the last hidden states ``[B, L, H]``."""

    def __init__(
        self,
        hidden_size: int,
        num_layers: int,
        num_heads: int,
        intermediate_size: int,
        hidden_dropout: float,
        attention_dropout: float,
        layer_norm_eps: float,
    ) -> None:
        super().__init__()
        self.layer = nn.ModuleList(
            BertLayer(hidden_size, num_heads, intermediate_size, hidden_dropout, attention_dropout, layer_norm_eps)
            for _ in range(num_layers)
        )

    def forward(self, hidden: Tensor) -> Tensor:
        for layer in self.layer:
            hidden = layer(hidden)
        return hidden

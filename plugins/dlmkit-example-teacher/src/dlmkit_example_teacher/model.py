"""``AdaLNTeacher``: a pre-LayerNorm transformer denoiser whose timestep enters through adaLN.

Tokens are embedded by a learned table (tied to the output logits, with its own bias), projected
to the transformer width and given learned positions.  Each block normalises its input without
learned affine parameters and lets the timestep choose the scale and shift instead (adaLN, as in
DiT), before attention and before the MLP; the residual stream itself is never normalised, and
it is what ``denoise_with_features`` returns as hidden states.  A final adaLN norm and a linear
map predict ``x0`` in embedding space.
"""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlmkit.nn import nearest_embedding, timestep_embedding
from dlmkit_example_teacher.params import AdaLNParams


def modulate(x: Tensor, shift: Tensor, scale: Tensor) -> Tensor:
    """Per-sample affine ``x * (1 + scale) + shift``; ``shift``/``scale`` are ``[B, H]``."""
    return x * (1.0 + scale[:, None, :]) + shift[:, None, :]


def _small_init(layer: nn.Linear) -> nn.Linear:
    """Near-zero modulation: blocks start as plain pre-LN blocks yet every weight gets a gradient."""
    nn.init.normal_(layer.weight, std=0.02)
    nn.init.zeros_(layer.bias)
    return layer


class AdaLNBlock(nn.Module):
    """Pre-LN self-attention and MLP, each on an adaLN-modulated copy of the residual stream."""

    def __init__(self, hidden: int, heads: int, mlp_ratio: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.mlp = nn.Sequential(
            nn.Linear(hidden, mlp_ratio * hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp_ratio * hidden, hidden)
        )
        self.modulation = _small_init(nn.Linear(hidden, 4 * hidden))

    def attention(self, x: Tensor) -> Tensor:
        batch, length, hidden = x.shape
        q, k, v = self.qkv(x).reshape(batch, length, 3, self.heads, hidden // self.heads).permute(2, 0, 3, 1, 4)
        p = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        return self.attn_out(out.transpose(1, 2).reshape(batch, length, hidden))

    def forward(self, h: Tensor, c: Tensor) -> Tensor:
        shift1, scale1, shift2, scale2 = self.modulation(F.silu(c)).chunk(4, dim=-1)
        width = h.shape[-1:]
        h = h + F.dropout(self.attention(modulate(F.layer_norm(h, width), shift1, scale1)), self.dropout, self.training)
        return h + F.dropout(self.mlp(modulate(F.layer_norm(h, width), shift2, scale2)), self.dropout, self.training)


class AdaLNTeacher(nn.Module):
    """An x0-predicting denoiser over ``[condition ; target]`` embeddings (``dlmkit.interfaces.Teacher``)."""

    component = "adaln_transformer"

    def __init__(self, config: AdaLNParams) -> None:
        super().__init__()
        if config.vocab_size is None or config.seq_len is None:
            raise ValueError("AdaLNTeacher needs vocab_size and seq_len; build it with build_adaln_teacher()")
        self.config = config
        self.num_timesteps = config.num_timesteps
        self.seq_len = config.seq_len
        self.embed_dim = config.embed_dim
        self.vocab_size = config.vocab_size
        d, h = config.embed_dim, config.hidden_size
        self.word_embedding = nn.Embedding(config.vocab_size, d)
        self.logit_bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.time_mlp = nn.Sequential(nn.Linear(config.time_dim, h), nn.SiLU(), nn.Linear(h, h))
        self.input_proj = nn.Linear(d, h)
        self.positions = nn.Parameter(torch.randn(config.seq_len, h) * 0.02)
        self.blocks = nn.ModuleList(
            AdaLNBlock(h, config.num_heads, config.mlp_ratio, config.dropout) for _ in range(config.num_layers)
        )
        self.final_modulation = _small_init(nn.Linear(h, 2 * h))
        self.output_proj = nn.Linear(h, d)

    @property
    def embedding_weight(self) -> nn.Parameter:
        return cast(nn.Parameter, self.word_embedding.weight)

    def model_time(self, t: Tensor) -> Tensor:
        """Integer timesteps to the float model time ``t * 1000 / T`` the time features see."""
        return t.float() * (1000.0 / self.num_timesteps)

    def features_at_model_time(self, x_t: Tensor, model_time: Tensor) -> tuple[Tensor, Tensor]:
        """``(x0 prediction, residual stream [B, L, hidden_size])`` at float model times ``[B]``."""
        length = x_t.shape[1]
        if length > self.seq_len:
            raise ValueError(f"adaln_transformer was built for seq_len {self.seq_len}, got sequences of {length}")
        model_time = model_time.to(x_t.device).float().reshape(-1).expand(x_t.shape[0])
        c = self.time_mlp(timestep_embedding(model_time, self.config.time_dim)).to(x_t.dtype)
        h = self.input_proj(x_t) + self.positions[:length].to(x_t.dtype)
        for block in self.blocks:
            h = block(h, c)
        shift, scale = self.final_modulation(F.silu(c)).chunk(2, dim=-1)
        return self.output_proj(modulate(F.layer_norm(h, h.shape[-1:]), shift, scale)), h

    def denoise_at_model_time(self, x_t: Tensor, model_time: Tensor) -> Tensor:
        """For samplers that feed float model times (DPM-Solver++)."""
        return self.features_at_model_time(x_t, model_time)[0]

    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        return self.features_at_model_time(x_t, self.model_time(t))

    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        return self.features_at_model_time(x_t, self.model_time(t))[0]

    def forward(self, x_t: Tensor, t: Tensor) -> Tensor:
        return self.denoise(x_t, t)

    def embed(self, ids: Tensor) -> Tensor:
        return self.word_embedding(ids)

    def logits(self, x: Tensor) -> Tensor:
        """Tied output layer: ``x E^T + b``."""
        return x @ self.word_embedding.weight.T + self.logit_bias

    def round(self, x: Tensor) -> Tensor:
        """Ids of the nearest embeddings in L2 (dlmkit's shared rule, in bounded memory)."""
        return nearest_embedding(x.detach(), self.word_embedding.weight.detach())

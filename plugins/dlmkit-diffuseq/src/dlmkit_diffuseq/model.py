"""DiffuSeq's denoiser ``TransformerNetModel``, module for module (spec diffuseq.md §1.1–1.4).

Registration order, attribute names and the persistent ``position_ids`` buffer are kept exactly so
that ``state_dict()`` has the official keys in the official order, and loading a state dict into the
tied embedding behaves as in the official code (``lm_head.weight`` is copied after
``word_embedding.weight`` and therefore wins).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dlmkit.nn import timestep_embedding
from dlmkit_diffuseq.bert_encoder import BertEncoder
from dlmkit_diffuseq.params import DiffuSeqParams
from dlmkit_diffuseq.silu import SiLU


class TransformerNetModel(nn.Module):
    """x0-predicting network: embeddings ``[B, L, D]`` and model times ``[B]`` to ``[B, L, D]``.

    The up/down projections exist only when ``embed_dim != hidden_size``, as in the official model;
    ``lm_head.weight`` *is* ``word_embedding.weight`` while ``lm_head.bias`` is its own parameter.
    ``params.vocab_size`` must be set.
    """

    def __init__(self, params: DiffuSeqParams) -> None:
        super().__init__()
        if params.vocab_size is None:
            raise ValueError("TransformerNetModel needs params.vocab_size; build it through build_teacher()")
        self.params = params
        vocab, dim, hidden = params.vocab_size, params.embed_dim, params.hidden_size
        self.word_embedding = nn.Embedding(vocab, dim)
        self.lm_head = nn.Linear(dim, vocab)
        self.lm_head.weight = self.word_embedding.weight
        self.time_embed = nn.Sequential(
            nn.Linear(params.hidden_t_dim, params.hidden_t_dim * 4),
            SiLU(),
            nn.Linear(params.hidden_t_dim * 4, hidden),
        )
        self.input_up_proj: nn.Sequential | None = None
        if dim != hidden:
            self.input_up_proj = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden))
        self.input_transformers = BertEncoder(
            hidden_size=hidden,
            num_layers=params.num_layers,
            num_heads=params.num_heads,
            intermediate_size=params.intermediate_size,
            hidden_dropout=params.dropout,
            attention_dropout=params.attention_dropout,
            layer_norm_eps=params.layer_norm_eps,
        )
        self.register_buffer("position_ids", torch.arange(params.max_position).expand((1, -1)))
        self.position_embeddings = nn.Embedding(params.max_position, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=params.layer_norm_eps)
        self.dropout = nn.Dropout(params.dropout)
        self.output_down_proj: nn.Sequential | None = None
        if dim != hidden:
            self.output_down_proj = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, dim))

    position_ids: Tensor

    def forward_with_hidden(self, x: Tensor, model_time: Tensor) -> tuple[Tensor, Tensor]:
        """``(x0 prediction [B, L, D], last encoder hidden states [B, L, H])`` at float model times."""
        length = x.size(1)
        if length > self.position_ids.size(1):
            raise ValueError(f"sequence length {length} exceeds max_position {self.position_ids.size(1)}")
        emb_t = self.time_embed(timestep_embedding(model_time, self.params.hidden_t_dim))
        emb_x = self.input_up_proj(x) if self.input_up_proj is not None else x
        positions = self.position_embeddings(self.position_ids[:, :length])
        h = self.dropout(self.LayerNorm(positions + emb_x + emb_t.unsqueeze(1).expand(-1, length, -1)))
        hidden = self.input_transformers(h)
        out = self.output_down_proj(hidden) if self.output_down_proj is not None else hidden
        return out.type(x.dtype), hidden

    def forward(self, x: Tensor, model_time: Tensor) -> Tensor:
        """x0 prediction at float model times (already rescaled to ``t * 1000 / T``)."""
        return self.forward_with_hidden(x, model_time)[0]

    def get_embeds(self, ids: Tensor) -> Tensor:
        """Token ids to embeddings through the shared table."""
        return self.word_embedding(ids)

    def get_logits(self, h: Tensor) -> Tensor:
        """``h @ E^T + b``: DiffuSeq's ``logits_mode = 1``."""
        return self.lm_head(h)

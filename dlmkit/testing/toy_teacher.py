"""A tiny but real transformer denoiser: the teacher every test and the tiny CPU recipe use.

It has the DiffuSeq layout in miniature (tied embedding and LM head with a separate bias,
a cos-then-sin time embedding, an up-projection, learned positions, a bidirectional encoder
without attention mask, a down-projection predicting ``x0``), so code that works on it works
on the real teacher; at the defaults it has about ten thousand parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from torch import Tensor, nn

from dlmkit.errors import UserError
from dlmkit.nn import nearest_embedding, timestep_embedding

_positive = [attrs.validators.instance_of(int), attrs.validators.gt(0)]


def _optional_positive(instance: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or value <= 0):
        raise ValueError(f"'{attribute.name}' must be a positive integer or absent, got {value!r}")


def _heads_divide_hidden(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if instance.hidden_size % value:
        raise ValueError(f"num_heads ({value}) must divide hidden_size ({instance.hidden_size})")


def _even(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value % 2:
        raise ValueError(f"embed_dim must be even (it also sizes the sinusoidal time embedding), got {value}")


@attrs.frozen
class ToyTeacherParams:
    """Sizes of the toy network; ``vocab_size``/``seq_len`` default to the dataset's."""

    embed_dim: int = attrs.field(default=16, validator=[*_positive, _even])
    hidden_size: int = attrs.field(default=32, validator=_positive)
    num_layers: int = attrs.field(default=1, validator=_positive)
    num_heads: int = attrs.field(default=2, validator=[*_positive, _heads_divide_hidden])
    vocab_size: int | None = attrs.field(default=None, validator=_optional_positive)
    seq_len: int | None = attrs.field(default=None, validator=_optional_positive)
    num_timesteps: int = attrs.field(
        default=2000, validator=[attrs.validators.instance_of(int), attrs.validators.gt(1)]
    )
    dropout: float = attrs.field(
        default=0.0, converter=float, validator=[attrs.validators.ge(0.0), attrs.validators.lt(1.0)]
    )


class ToyTeacher(nn.Module):
    """An x0-predicting denoiser over ``[condition ; target]`` embeddings (``dlmkit.interfaces.Teacher``)."""

    component = "toy"

    def __init__(self, config: ToyTeacherParams) -> None:
        super().__init__()
        if config.vocab_size is None or config.seq_len is None:
            raise UserError("ToyTeacher needs vocab_size and seq_len; build it with build_toy_teacher()")
        self.config = config
        self.num_timesteps = config.num_timesteps
        self.seq_len = config.seq_len
        self.embed_dim = config.embed_dim
        self.vocab_size = config.vocab_size
        d, h = config.embed_dim, config.hidden_size
        self.word_embedding = nn.Embedding(config.vocab_size, d)
        self.lm_head = nn.Linear(d, config.vocab_size)
        self.lm_head.weight = self.word_embedding.weight  # tied, as in DiffuSeq; the bias stays separate
        self.time_embed = nn.Sequential(nn.Linear(d, h), nn.SiLU(), nn.Linear(h, h))
        self.input_up_proj = nn.Linear(d, h)
        self.position_embeddings = nn.Embedding(config.seq_len, h)
        self.layer_norm = nn.LayerNorm(h)
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerEncoderLayer(
            h, config.num_heads, dim_feedforward=h, dropout=config.dropout, activation="gelu", batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, config.num_layers, enable_nested_tensor=False)
        self.output_down_proj = nn.Linear(h, d)

    @property
    def embedding_weight(self) -> nn.Parameter:
        weight = self.word_embedding.weight
        assert isinstance(weight, nn.Parameter)
        return weight

    def model_time(self, t: Tensor) -> Tensor:
        return t.float() * (1000.0 / self.num_timesteps)

    def features_at_model_time(self, x_t: Tensor, model_time: Tensor) -> tuple[Tensor, Tensor]:
        """``(x0 prediction, last hidden states)`` for a float model time (DPM-Solver feeds non-integers)."""
        length = x_t.shape[1]
        if length > self.seq_len:
            raise UserError(f"toy teacher was built for seq_len {self.seq_len} but got sequences of {length}")
        model_time = model_time.to(x_t.device).float().reshape(-1)
        if model_time.numel() == 1 and x_t.shape[0] != 1:
            model_time = model_time.expand(x_t.shape[0])
        emb_t = self.time_embed(timestep_embedding(model_time, self.embed_dim)).to(x_t.dtype)
        positions = self.position_embeddings.weight[:length].to(x_t.dtype)
        h = self.layer_norm(self.input_up_proj(x_t) + positions + emb_t[:, None, :])
        h = self.encoder(self.dropout(h))
        return self.output_down_proj(h), h

    def denoise_at_model_time(self, x_t: Tensor, model_time: Tensor) -> Tensor:
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
        return self.lm_head(x)

    def round(self, x: Tensor) -> Tensor:
        """Nearest embedding by L2, by DiffuSeq's rule."""
        return nearest_embedding(x, self.word_embedding.weight)


def build_toy_teacher(
    params: ToyTeacherParams,
    vocab_size: int | None = None,
    seq_len: int | None = None,
    tokens: Sequence[str] | None = None,
) -> ToyTeacher:
    """Resolve the dataset's sizes into the params (so checkpoints rebuild without the recipe) and build.

    The toy initialises its embeddings at random, so it ignores ``tokens``.
    """
    resolved: dict[str, int] = {}
    for key, given, needed in (("vocab_size", params.vocab_size, vocab_size), ("seq_len", params.seq_len, seq_len)):
        if given is None and needed is None:
            raise UserError(f"teacher.{key}: the toy teacher needs a {key}; set it or let the dataset provide it")
        if given is not None and needed is not None and given < needed:
            raise UserError(
                f"teacher.{key} = {given} is smaller than the dataset's {key} ({needed}); remove the key or set it "
                f">= {needed}"
            )
        value = given if given is not None else needed
        assert value is not None
        resolved[key] = value
    return ToyTeacher(attrs.evolve(params, **resolved))

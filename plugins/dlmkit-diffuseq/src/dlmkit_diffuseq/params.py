"""Sizes and options of the DiffuSeq teacher.

Kept free of torch so that checking a recipe (``dlmkit validate``) does not pay for importing it.
The defaults are the released DiffuSeq configuration: ``hidden_dim`` 128 on a BERT-base encoder.
"""

from __future__ import annotations

from typing import Any

import attrs

INIT_ENCODERS: tuple[str, ...] = ("none", "minilm")


def _positive(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{attribute.name} must be an integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{attribute.name} must be a positive integer, got {value}")


def _optional_positive(instance: Any, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None:
        _positive(instance, attribute, value)  # type: ignore[arg-type]


def _probability(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{attribute.name} must be a number, got {value!r}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{attribute.name} must lie in [0, 1), got {value}")


def _non_negative_float(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{attribute.name} must be a number, got {value!r}")
    if not value >= 0.0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


def _positive_float(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{attribute.name} must be a number, got {value!r}")
    if not value > 0.0:
        raise ValueError(f"{attribute.name} must be > 0, got {value}")


@attrs.frozen
class DiffuSeqParams:
    """The ``[teacher]`` parameters of ``diffuseq``.

    ``embed_dim`` is DiffuSeq's ``hidden_dim`` (the token-embedding width the diffusion runs in);
    ``hidden_size`` and the following are the BERT encoder's sizes.  ``vocab_size = None`` takes the
    vocabulary size from the data's tokenizer.  ``num_timesteps`` is the T used to rescale integer
    timesteps to the network's model time ``t * 1000 / T``.  ``init_encoder = "minilm"`` starts the
    encoder from the MiniLM-L6 weights (needs hidden_size 384, 12 heads, intermediate 1536); with
    ``embed_dim = 384`` it copies MiniLM's word embeddings too, rescaled to a per-dimension standard
    deviation of ``init_word_std`` (1.0, the scale of DiffuSeq's own N(0, 1) init; 0 keeps MiniLM's
    scale, as DiffuSeq's ``use_plm_init`` does).
    """

    embed_dim: int = attrs.field(default=128, validator=_positive)
    hidden_t_dim: int = attrs.field(default=128, validator=_positive)
    seq_len: int = attrs.field(default=128, validator=_positive)
    hidden_size: int = attrs.field(default=768, validator=_positive)
    num_layers: int = attrs.field(default=12, validator=_positive)
    num_heads: int = attrs.field(default=12, validator=_positive)
    intermediate_size: int = attrs.field(default=3072, validator=_positive)
    max_position: int = attrs.field(default=512, validator=_positive)
    dropout: float = attrs.field(default=0.1, validator=_probability)
    attention_dropout: float = attrs.field(default=0.1, validator=_probability)
    layer_norm_eps: float = attrs.field(default=1e-12, validator=_positive_float)
    vocab_size: int | None = attrs.field(default=None, validator=_optional_positive)
    num_timesteps: int = attrs.field(default=2000, validator=_positive)
    init_encoder: str = attrs.field(default="none")
    init_word_std: float = attrs.field(default=1.0, validator=_non_negative_float)

    @init_encoder.validator
    def _check_init_encoder(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in INIT_ENCODERS:
            raise ValueError(f"init_encoder must be one of {', '.join(repr(v) for v in INIT_ENCODERS)}, got {value!r}")

    def __attrs_post_init__(self) -> None:
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be a multiple of num_heads ({self.num_heads}); "
                f"for example num_heads = {_largest_divisor(self.hidden_size, self.num_heads)}"
            )
        if self.seq_len > self.max_position:
            raise ValueError(
                f"seq_len ({self.seq_len}) exceeds max_position ({self.max_position}); "
                f"raise max_position to at least {self.seq_len} or shorten seq_len"
            )


def _largest_divisor(n: int, at_most: int) -> int:
    return max(d for d in range(1, at_most + 1) if n % d == 0)

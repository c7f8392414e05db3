"""The ``[teacher]`` parameters of ``adaln_transformer``.

Kept free of torch, so that ``dlmkit validate`` and ``dlmkit components`` can read them without
importing the network.  Validators look at the value only (the recipe loader calls them with no
instance); rules that relate two fields live in ``__attrs_post_init__``.
"""

from __future__ import annotations

from typing import Any

import attrs


def _positive_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"'{attribute.name}' must be a positive integer, got {value!r}")


def _optional_positive_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _positive_int(instance, attribute, value)


def _dropout(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
        raise ValueError(f"'{attribute.name}' must be a number in [0, 1), got {value!r}")


@attrs.frozen
class AdaLNParams:
    """Sizes of the network.  ``vocab_size`` / ``seq_len`` default to the data's and are stored resolved.

    ``embed_dim`` is the width of the token embeddings the diffusion runs in; ``hidden_size`` the
    width of the transformer; ``time_dim`` the number of sinusoidal features of the timestep.
    ``num_timesteps`` is the T whose integer timesteps are rescaled to the model time ``t * 1000 / T``.
    """

    embed_dim: int = attrs.field(default=16, validator=_positive_int)
    hidden_size: int = attrs.field(default=64, validator=_positive_int)
    num_layers: int = attrs.field(default=2, validator=_positive_int)
    num_heads: int = attrs.field(default=4, validator=_positive_int)
    mlp_ratio: int = attrs.field(default=2, validator=_positive_int)
    time_dim: int = attrs.field(default=32, validator=_positive_int)
    dropout: float = attrs.field(default=0.0, validator=_dropout)
    num_timesteps: int = attrs.field(default=2000, validator=_positive_int)
    vocab_size: int | None = attrs.field(default=None, validator=_optional_positive_int)
    seq_len: int | None = attrs.field(default=None, validator=_optional_positive_int)

    def __attrs_post_init__(self) -> None:
        if self.hidden_size % self.num_heads:
            raise ValueError(f"num_heads ({self.num_heads}) must divide hidden_size ({self.hidden_size})")
        if self.time_dim % 2:
            raise ValueError(f"time_dim must be even (cosine and sine features in pairs), got {self.time_dim}")
        if self.num_timesteps < 2:
            raise ValueError(f"num_timesteps must be at least 2, got {self.num_timesteps}")

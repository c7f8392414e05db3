"""AdamW settings of one trained network, as a stage table gives them."""

from __future__ import annotations

import attrs
from attrs import validators as v

from dlmkit.structuring import finite


@attrs.frozen
class OptimSpec:
    """AdamW settings for one network."""

    lr: float = attrs.field(validator=[finite, v.ge(0.0)])
    """Learning rate; 0 freezes the network (the proof's negative control sets psi's to 0)."""
    betas: list[float] = attrs.field(
        factory=lambda: [0.9, 0.999], validator=v.deep_iterable(v.and_(v.ge(0.0), v.lt(1.0)))
    )
    weight_decay: float = attrs.field(default=0.0, validator=[finite, v.ge(0.0)])
    eps: float = attrs.field(default=1e-8, validator=[finite, v.gt(0.0)])
    clip_grad_value: float | None = attrs.field(default=None, validator=v.optional([finite, v.gt(0.0)]))
    """Clamp every gradient element to ``[-value, value]`` before the step (SiDA: 1 on psi); none by default."""
    lr_final: float | None = attrs.field(default=None, validator=v.optional([finite, v.ge(0.0)]))
    """The rate a cosine anneals ``lr`` to by the stage's last step; unset (the paper's setting): constant."""

    def __attrs_post_init__(self) -> None:
        if len(self.betas) != 2:
            raise ValueError(f"'betas' must hold two numbers, got {self.betas}")
        check_decay(self.lr, self.weight_decay)
        if self.lr_final is not None and self.lr_final > self.lr:
            raise ValueError(
                f"'lr_final' ({self.lr_final:g}) must not exceed 'lr' ({self.lr:g}): the rate anneals down to it"
            )


def check_decay(lr: float, weight_decay: float) -> None:
    """AdamW multiplies every weight by ``1 - lr * weight_decay`` each step: at 1 or more that zeroes or flips
    the weights (and past float range makes them NaN), so the network is destroyed by its first update."""
    if lr * weight_decay >= 1.0:
        raise ValueError(
            f"'weight_decay' ({weight_decay:g}) times 'lr' ({lr:g}) must be below 1: AdamW scales the weights by "
            "1 - lr x weight_decay at every step (typical weight_decay: 0 to 0.1)"
        )

"""Exponential moving average of a network's weights, kept as a full module copy."""

from __future__ import annotations

import torch
from torch import nn

from dlmkit.nn.frozen import frozen_copy


class EMA:
    """``shadow = decay * shadow + (1 - decay) * live`` after every optimiser step."""

    def __init__(self, module: nn.Module, decay: float):
        self.decay = decay
        self.shadow = frozen_copy(module)

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        live = dict(module.named_parameters())
        for name, p in self.shadow.named_parameters():
            p.lerp_(live[name].detach(), 1.0 - self.decay)
        for shadow_buffer, live_buffer in zip(self.shadow.buffers(), module.buffers(), strict=True):
            shadow_buffer.copy_(live_buffer)

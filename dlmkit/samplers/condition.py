"""The condition of a packed batch, as samplers hold it: clean embedding plus where to re-inject it.

DiffuSeq never noises the condition: it starts every chain from ``where(mask == 0, E(ids), noise)``
and puts the clean embedding back after every update.  Only condition ids are read from the
batch; target ids are replaced by 0 before embedding, so no sampler can leak the answer.
"""

from __future__ import annotations

import attrs
import torch
from torch import Tensor

from dlmkit.interfaces.dataset import Batch
from dlmkit.interfaces.teacher import Denoiser


@attrs.frozen
class AnchoredCondition:
    """``ids`` are the condition ids (0 elsewhere); ``keep`` is ``[B, L, 1]``, True on the condition."""

    ids: Tensor
    embedding: Tensor
    keep: Tensor

    @classmethod
    def from_batch(cls, model: Denoiser, batch: Batch) -> AnchoredCondition:
        is_condition = batch.input_mask == 0
        ids = torch.where(is_condition, batch.input_ids, torch.zeros_like(batch.input_ids))
        # Detached: the embedding table is frozen during distillation, and no gradient may reach the condition.
        return cls(ids=ids, embedding=model.embed(ids).detach(), keep=is_condition.unsqueeze(-1))

    @property
    def shape(self) -> torch.Size:
        return self.embedding.shape

    @property
    def batch_size(self) -> int:
        return int(self.embedding.shape[0])

    def anchor(self, x: Tensor) -> Tensor:
        """``x`` with the clean condition embedding put back on condition positions."""
        return torch.where(self.keep, self.embedding.to(x.dtype), x)

    def timesteps(self, t: int) -> Tensor:
        """A ``[B]`` tensor of the integer timestep ``t`` on the batch's device."""
        return torch.full((self.batch_size,), int(t), dtype=torch.long, device=self.embedding.device)

    def output_ids(self, model: Denoiser, x: Tensor) -> Tensor:
        """``argmax`` of the LM-head logits on target positions; condition positions echo the input."""
        generated = model.logits(x).argmax(dim=-1)
        return torch.where(self.keep.squeeze(-1), self.ids, generated)

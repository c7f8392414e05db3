"""Shuffled mini-batches over a packed split, resumable from (epoch, position)."""

from __future__ import annotations

from typing import Any

import torch

from dlmkit.interfaces import Batch


class EpochBatches:
    """Walks a new permutation of the split every epoch; the permutation depends only on (seed, epoch).

    ``rank``/``world`` give each process its own shard of every epoch's permutation.
    """

    def __init__(self, data: Batch, batch_size: int, seed: int, rank: int = 0, world: int = 1):
        if len(data) == 0:
            raise ValueError("the training split is empty")
        self.data = data
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world = world
        self.epoch = 0
        self.position = 0
        self._order = self._permutation()

    def _permutation(self) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return torch.randperm(len(self.data), generator=g)[self.rank :: self.world]

    def next(self) -> Batch:
        picked: list[torch.Tensor] = []
        need = self.batch_size
        while need > 0:
            if self.position >= len(self._order):
                self.epoch += 1
                self.position = 0
                self._order = self._permutation()
            take = self._order[self.position : self.position + need]
            self.position += len(take)
            need -= len(take)
            picked.append(take)
        index = torch.cat(picked)
        return Batch(self.data.input_ids[index], self.data.input_mask[index])

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        self._order = self._permutation()

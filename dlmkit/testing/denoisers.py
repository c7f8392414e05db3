"""Test doubles for code that drives a ``Denoiser``: an oracle that knows the answer, and a spy.

The oracle makes a sampler's correctness checkable without training anything: given the true
``x0`` at every call, a correct sampler must return the true ids.  The spy counts calls, keeps
the timesteps it was called with and notices when a caller keeps old states alive.
"""

from __future__ import annotations

import weakref

import torch
from torch import Tensor

from dlmkit.interfaces.teacher import ContinuousTimeDenoiser, Denoiser


class OracleDenoiser:
    """Predicts the embedding of ``answer_ids`` ``[B, L]`` whatever it is given.

    Logits are negative squared distances to the embedding table, so ``argmax`` of the logits
    and ``round`` both return the nearest token, and the answer's embedding maps back to it.
    """

    def __init__(self, table: Tensor, answer_ids: Tensor, num_timesteps: int) -> None:
        self.table = table
        self.answer_ids = answer_ids
        self.num_timesteps = num_timesteps
        self.seq_len = int(answer_ids.shape[1])
        self.vocab_size, self.embed_dim = int(table.shape[0]), int(table.shape[1])

    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        return self.table[self.answer_ids].to(x_t.dtype)

    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        x0 = self.denoise(x_t, t)
        return x0, x0

    def embed(self, ids: Tensor) -> Tensor:
        return self.table[ids]

    def logits(self, x: Tensor) -> Tensor:
        return -(torch.cdist(x.to(self.table.dtype), self.table.expand(x.shape[0], -1, -1)) ** 2)

    def round(self, x: Tensor) -> Tensor:
        return self.logits(x).argmax(dim=-1)


class SpyDenoiser:
    """Forwards to ``model`` and records every network call.

    ``times`` holds the integer timesteps (or float model times) of each call, ``inputs`` clones
    of the inputs when ``keep_inputs`` is set, and ``max_alive`` the most earlier inputs still
    referenced (by anyone) at the time of a call: a sampler that keeps a list of its states
    drives it up with the number of steps.
    """

    def __init__(self, model: Denoiser, keep_inputs: bool = False) -> None:
        self.model = model
        self.keep_inputs = keep_inputs
        self.num_timesteps = model.num_timesteps
        self.seq_len = model.seq_len
        self.embed_dim = model.embed_dim
        self.vocab_size = model.vocab_size
        self.times: list[Tensor] = []
        self.inputs: list[Tensor] = []
        self.max_alive = 0
        self._refs: list[weakref.ref[Tensor]] = []

    @property
    def calls(self) -> int:
        return len(self.times)

    def _record(self, x: Tensor, t: Tensor) -> None:
        alive = sum(1 for ref in self._refs if ref() is not None)
        self.max_alive = max(self.max_alive, alive)
        self._refs.append(weakref.ref(x))
        self.times.append(t.detach().clone())
        if self.keep_inputs:
            self.inputs.append(x.detach().clone())

    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        self._record(x_t, t)
        return self.model.denoise(x_t, t)

    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        self._record(x_t, t)
        return self.model.denoise_with_features(x_t, t)

    def embed(self, ids: Tensor) -> Tensor:
        return self.model.embed(ids)

    def logits(self, x: Tensor) -> Tensor:
        return self.model.logits(x)

    def round(self, x: Tensor) -> Tensor:
        return self.model.round(x)


class ModelTimeSpyDenoiser(SpyDenoiser):
    """A spy that also offers ``denoise_at_model_time`` (for samplers that feed float model times)."""

    def denoise_at_model_time(self, x_t: Tensor, model_time: Tensor) -> Tensor:
        self._record(x_t, model_time)
        assert isinstance(self.model, ContinuousTimeDenoiser)
        return self.model.denoise_at_model_time(x_t, model_time)

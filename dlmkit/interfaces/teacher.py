"""The teacher contract: an x0-predicting diffusion network over embedded token sequences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor


@runtime_checkable
class Denoiser(Protocol):
    """Anything that predicts clean embeddings from noisy ones; teachers, psi and students alike.

    Sequences are packed ``[condition ; target]`` of length ``seq_len`` with embedding dim
    ``embed_dim``.  Timesteps are integers in ``[0, num_timesteps)``; any model-time rescaling
    the network needs happens inside ``denoise``.
    """

    num_timesteps: int
    seq_len: int
    embed_dim: int
    vocab_size: int

    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        """x0 prediction ``[B, L, D]`` for ``x_t`` ``[B, L, D]`` at integer timesteps ``t`` ``[B]``."""
        ...

    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        """``(x0 prediction, last hidden states [B, L, H])`` from one forward pass.

        The hidden states are what lets a fake-score network double as a discriminator.
        """
        ...

    def embed(self, ids: Tensor) -> Tensor:
        """Token ids ``[B, L]`` to embeddings ``[B, L, D]``."""
        ...

    def logits(self, x: Tensor) -> Tensor:
        """Embeddings ``[B, L, D]`` to vocabulary logits ``[B, L, V]``."""
        ...

    def round(self, x: Tensor) -> Tensor:
        """Nearest-embedding (L2) token ids ``[B, L]`` for embeddings ``[B, L, D]``."""
        ...


@runtime_checkable
class Teacher(Denoiser, Protocol):
    """A trainable, checkpointable denoiser: a ``torch.nn.Module`` that also satisfies ``Denoiser``.

    ``component`` and ``config`` (an attrs instance of the component's parameter class) are
    stored in checkpoints so the same network can be rebuilt without the recipe.  The registry sets
    ``component`` to the name the teacher was registered under whenever it builds one, so a class
    need not repeat its registered name.
    """

    component: str
    config: Any
    training: bool

    def parameters(self, recurse: bool = True) -> Any: ...

    def state_dict(self, *args: Any, **kwargs: Any) -> Any: ...

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any: ...

    def train(self, mode: bool = True) -> Any: ...

    def eval(self) -> Any: ...

    def to(self, *args: Any, **kwargs: Any) -> Any: ...

    @property
    def embedding_weight(self) -> torch.nn.Parameter:
        """The ``[V, D]`` embedding table used for input, rounding and (tied) logits."""
        ...


@runtime_checkable
class ContinuousTimeDenoiser(Protocol):
    """A denoiser that also takes float model times (``t * 1000 / T``), not only integer steps.

    Optional: samplers that solve in continuous time (DPM-Solver++) feed the exact time to a model
    that satisfies this, and round to the nearest step for one that does not.
    """

    def denoise_at_model_time(self, x_t: Tensor, model_time: Tensor) -> Tensor:
        """``denoise`` at float model times ``[B]``."""
        ...


class TeacherFactory(Protocol):
    """How dlmkit calls a registered teacher's factory: its params, plus the sizes the data decides.

    ``tokens`` are the tokenizer's token strings in id order (for initialising embeddings from a
    pretrained table); ``None`` when a saved teacher is rebuilt.  Annotate a plugin's factory with it
    (``factory: TeacherFactory = build_my_teacher``) and mypy checks the signature.
    """

    def __call__(
        self, params: Any, *, vocab_size: int, seq_len: int, tokens: Sequence[str] | None = None
    ) -> Teacher: ...


def as_module(teacher: Denoiser) -> torch.nn.Module:
    """The teacher as the ``nn.Module`` it must be, for code that saves, copies or averages weights."""
    if not isinstance(teacher, torch.nn.Module):
        raise TypeError(f"{type(teacher).__name__} must be a torch.nn.Module to be trained or saved")
    return teacher

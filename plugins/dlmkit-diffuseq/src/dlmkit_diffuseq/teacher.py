"""The DiffuSeq network behind dlmkit's ``Teacher`` contract.

``DiffuSeqTeacher`` *is* a ``TransformerNetModel`` (a subclass, not a wrapper) so that its
``state_dict()`` carries exactly the official key names and official checkpoints load into it
directly.  It adds the integer-timestep API: ``denoise(x_t, t)`` rescales ``t`` to the model time
``t * 1000 / T`` that DiffuSeq's ``_WrappedModel`` feeds the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import attrs
import torch
from torch import Tensor, nn

from dlmkit.errors import UserError
from dlmkit.nn import DEFAULT_MAX_ELEMENTS, nearest_embedding
from dlmkit_diffuseq.model import TransformerNetModel
from dlmkit_diffuseq.params import DiffuSeqParams


class DiffuSeqTeacher(TransformerNetModel):
    """DiffuSeq's x0-predicting denoiser with integer timesteps in ``[0, num_timesteps)``."""

    component: str = "diffuseq"

    def __init__(self, params: DiffuSeqParams) -> None:
        if params.vocab_size is None:
            raise ValueError("DiffuSeqTeacher needs params.vocab_size; build it through build_teacher()")
        super().__init__(params)
        self.config = params
        self.num_timesteps = params.num_timesteps
        self.seq_len = params.seq_len
        self.embed_dim = params.embed_dim
        self.vocab_size = params.vocab_size

    def model_time(self, t: Tensor) -> Tensor:
        """Integer timesteps to DiffuSeq's float model time ``t * (1000 / T)`` (``t / 2`` for T = 2000)."""
        return t.float() * (1000.0 / self.num_timesteps)

    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        """x0 prediction ``[B, L, D]`` at integer timesteps ``t`` (``[B]``, or a scalar for the batch)."""
        return self.forward(x_t, self.model_time(_per_example(t, x_t)))

    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        """``(x0 prediction, last encoder hidden states [B, L, hidden_size])`` from one forward pass."""
        return self.forward_with_hidden(x_t, self.model_time(_per_example(t, x_t)))

    def denoise_at_model_time(self, x_t: Tensor, model_time: Tensor) -> Tensor:
        """x0 prediction at float model times fed to the network as they are (DPM-Solver's ``t * 1000``)."""
        return self.forward(x_t, _per_example(model_time, x_t))

    def embed(self, ids: Tensor) -> Tensor:
        """Token ids ``[B, L]`` to embeddings ``[B, L, D]`` through the shared table."""
        return self.word_embedding(ids)

    def logits(self, x: Tensor) -> Tensor:
        """``x @ E^T + b`` ``[B, L, V]``: the tied ``lm_head``."""
        return self.lm_head(x)

    def round(self, x: Tensor, max_elements: int = DEFAULT_MAX_ELEMENTS) -> Tensor:
        """Nearest-embedding ids ``[B, L]`` by the official ``get_efficient_knn`` rule, chunked."""
        return nearest_embedding(x, self.word_embedding.weight.detach(), max_elements=max_elements)

    @property
    def embedding_weight(self) -> nn.Parameter:
        """The ``[V, D]`` table used for input embedding, rounding and the tied logits."""
        return cast(nn.Parameter, self.word_embedding.weight)


def _per_example(t: Tensor, x: Tensor) -> Tensor:
    """A scalar timestep broadcast to the batch; a ``[B]`` tensor unchanged."""
    t = torch.as_tensor(t, device=x.device)
    return t.expand(x.size(0)) if t.dim() == 0 else t


def build_teacher(
    params: DiffuSeqParams, vocab_size: int, seq_len: int, tokens: Sequence[str] | None = None
) -> DiffuSeqTeacher:
    """Registry factory: a freshly initialised teacher (PyTorch default init, as DiffuSeq has it).

    ``params.vocab_size`` wins when set (it may exceed the tokenizer's vocabulary, never fall short);
    otherwise the tokenizer's ``vocab_size`` is used.  ``params.seq_len`` is the teacher's sequence
    length and must equal the data's ``seq_len``.  ``init_encoder = "minilm"`` then copies MiniLM
    (its word embeddings matched to the tokenizer's ``tokens`` when ``embed_dim`` is 384).
    """
    if params.vocab_size is not None and params.vocab_size < vocab_size:
        raise UserError(
            f"[teacher] vocab_size = {params.vocab_size} is smaller than the tokenizer's vocabulary "
            f"({vocab_size} ids); remove vocab_size from [teacher] to take it from the tokenizer, "
            f"or set it to at least {vocab_size}"
        )
    if seq_len != params.seq_len:
        raise UserError(
            f"[teacher] seq_len = {params.seq_len} but the data is packed to seq_len = {seq_len}; "
            f"set seq_len = {seq_len} in [teacher] (or change the data's seq_len to {params.seq_len})"
        )
    config = attrs.evolve(params, vocab_size=params.vocab_size if params.vocab_size is not None else vocab_size)
    teacher = DiffuSeqTeacher(config)
    if config.init_encoder == "minilm":
        from dlmkit_diffuseq.minilm import init_from_minilm

        init_from_minilm(teacher, tokens)
        # The stored config describes the architecture; the weights now carry the initialisation, so a
        # checkpoint rebuilds without re-reading MiniLM (or needing its package).
        teacher.config = attrs.evolve(config, init_encoder="none")
    return teacher

"""The exact teacher of the ``modes`` task: the posterior mean of x0 over the source's K answers.

Every source has K equally likely answers (``dlmkit.data.modes``).  Under a VP schedule the noised
target is ``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps``, so the best x0 prediction in squared error
is, over target positions,

    ``sum_k softmax_k(-||x_t - sqrt(abar_t) e_k||^2 / (2 (1 - abar_t))) e_k``

where ``e_k`` is the k-th answer embedded, packed as the data packs it (``[CLS] y [SEP] [PAD]...``).
The source is read off the clean condition positions (``[CLS] x [SEP] [SEP]``) by rounding.  A
distillation from this teacher has no teacher error in it, so what the student misses is the
method's.  The embedding table is a given teacher file's, so a student and psi initialised from
that teacher live in the same space.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import attrs
import torch
from attrs import validators as v
from torch import Tensor, nn

from dlmkit.data.modes import SPECIAL, TRANSFORMS, check_modes
from dlmkit.errors import UserError
from dlmkit.nn import nearest_embedding
from dlmkit.plugins import build, make_params
from dlmkit.structuring import path_field

PAD, CLS, SEP = (SPECIAL.index(name) for name in ("[PAD]", "[CLS]", "[SEP]"))


@attrs.frozen
class ModesOracleParams:
    """``[teacher]`` keys of ``modes_oracle``.

    ``embeddings`` names a dlmkit teacher file whose embedding table the oracle takes (the learned
    proof teacher's, so students initialised from it share the space); unset, the table is random
    (``embed_dim`` wide, seeded by ``seed``).  ``schedule`` and ``num_timesteps`` must be the recipe's.
    """

    embeddings: str | None = path_field(default=None)
    schedule: str = "sqrt"
    num_timesteps: int = attrs.field(default=2000, validator=[v.instance_of(int), v.gt(1)])
    modes: list[str] = attrs.field(factory=lambda: list(TRANSFORMS), validator=check_modes)
    embed_dim: int | None = attrs.field(default=None, validator=v.optional([v.instance_of(int), v.gt(0)]))
    vocab_size: int | None = attrs.field(default=None, validator=v.optional([v.instance_of(int), v.gt(len(SPECIAL))]))
    seq_len: int | None = attrs.field(default=None, validator=v.optional([v.instance_of(int), v.ge(8)]))
    seed: int = attrs.field(default=0, validator=[v.instance_of(int), v.ge(0)])


def answer_rows(ids: Sequence[int], modes: Sequence[str]) -> tuple[int, list[list[int]]] | None:
    """The condition length and the K packed target rows of one rounded sequence; ``None`` if it is no modes pair."""
    if len(ids) < 5 or ids[0] != CLS:
        return None
    try:
        end = ids.index(SEP, 1)
    except ValueError:
        return None
    source = list(ids[1:end])
    cond_len = end + 2
    room = len(ids) - cond_len
    if not source or end + 1 >= len(ids) or ids[end + 1] != SEP or room < len(source) + 2:
        return None
    if any(token < len(SPECIAL) for token in source):
        return None
    rows: list[list[int]] = []
    for mode in modes:
        moved = cast("list[int]", TRANSFORMS[mode](cast("list[str]", source)))  # the transforms move any items
        answer = [CLS, *moved, SEP]
        rows.append(answer + [PAD] * (room - len(answer)))
    return cond_len, rows


class ModesOracle(nn.Module):
    """``dlmkit.interfaces.Teacher`` whose ``denoise`` is the exact posterior mean of the modes task."""

    component = "modes_oracle"

    def __init__(self, config: ModesOracleParams, table: Tensor, alphas_cumprod: Tensor) -> None:
        super().__init__()
        if config.vocab_size is None or config.seq_len is None:
            raise UserError("the modes oracle needs vocab_size and seq_len; build it with build_modes_oracle()")
        self.config = config
        self.num_timesteps = config.num_timesteps
        self.seq_len = config.seq_len
        self.vocab_size, self.embed_dim = int(table.shape[0]), int(table.shape[1])
        self.table = nn.Parameter(table.detach().clone().float())
        self.alphas_cumprod: Tensor
        self.register_buffer("alphas_cumprod", alphas_cumprod.detach().clone().float(), persistent=False)
        self.modes = list(config.modes)

    @property
    def embedding_weight(self) -> nn.Parameter:
        return self.table

    def embed(self, ids: Tensor) -> Tensor:
        return nn.functional.embedding(ids, self.table)

    def logits(self, x: Tensor) -> Tensor:
        return x @ self.table.to(x.dtype).t()

    def round(self, x: Tensor) -> Tensor:
        return nearest_embedding(x, self.table.detach())

    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        """The posterior mean on target positions; the condition positions come back as given."""
        batch, length, _ = x_t.shape
        t = t.expand(batch) if t.dim() == 0 else t
        ids = self.round(x_t.detach()).tolist()
        answers = torch.zeros(batch, len(self.modes), length, dtype=torch.long)
        target = torch.zeros(batch, length, dtype=torch.bool)
        valid = torch.zeros(batch, dtype=torch.bool)
        for row, row_ids in enumerate(ids):
            found = answer_rows(row_ids, self.modes)
            if found is None:
                continue
            cond_len, rows = found
            answers[row, :, cond_len:] = torch.tensor(rows)
            target[row, cond_len:] = True
            valid[row] = True
        device = x_t.device
        answers, target, valid = answers.to(device), target.to(device), valid.to(device)
        e = self.embed(answers).to(x_t.dtype)  # [B, K, L, D]
        abar = self.alphas_cumprod.to(device)[t.long()].to(x_t.dtype).view(batch, 1)
        on_target = target[:, None, :, None].to(x_t.dtype)
        distance = ((x_t[:, None] - abar.sqrt()[..., None, None] * e).square() * on_target).sum(dim=(2, 3))
        weights = torch.softmax(-distance / (2.0 * (1.0 - abar)).clamp_min(1e-12), dim=1)  # [B, K]
        mean = (weights[:, :, None, None] * e).sum(dim=1)
        keep = (target & valid[:, None])[..., None]
        return torch.where(keep, mean, x_t)

    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        """The prediction doubles as the features: the oracle has no hidden layer."""
        x0 = self.denoise(x_t, t)
        return x0, x0


def _table(params: ModesOracleParams, vocab_size: int | None, rebuilding: bool) -> Tensor:
    if rebuilding and params.vocab_size is not None and params.embed_dim is not None:
        return torch.zeros(params.vocab_size, params.embed_dim)  # a saved oracle: its state dict brings the table
    if params.embeddings is not None:
        from dlmkit.storage.teacher_files import load_teacher

        return load_teacher(params.embeddings).embedding_weight.detach().float()
    size = params.vocab_size or vocab_size
    if size is None:
        raise UserError("teacher.vocab_size: the modes oracle needs a vocabulary size or an 'embeddings' file")
    generator = torch.Generator().manual_seed(params.seed)
    return torch.randn(size, params.embed_dim or 16, generator=generator)


def build_modes_oracle(
    params: ModesOracleParams,
    vocab_size: int | None = None,
    seq_len: int | None = None,
    tokens: Sequence[str] | None = None,
) -> ModesOracle:
    """Take the table, check it against the data, resolve the sizes into the params and build.

    A saved oracle is rebuilt without ``tokens`` and with its sizes resolved: its table then comes from
    the file's state dict, so the ``embeddings`` file it was made from need not exist any more.
    """
    if tokens is not None and list(tokens[: len(SPECIAL)]) != list(SPECIAL):
        raise UserError(
            f"the modes oracle reads the modes data's vocabulary ({', '.join(SPECIAL)} first); "
            f'this data\'s starts {list(tokens[: len(SPECIAL)])}: use [data] name = "modes"'
        )
    table = _table(params, vocab_size, rebuilding=tokens is None)
    if vocab_size is not None and table.shape[0] != vocab_size:
        raise UserError(
            f"teacher.embeddings {params.embeddings}: its table has {table.shape[0]} rows but the data's "
            f"vocabulary has {vocab_size}; take the table of a teacher trained on the same [data]"
        )
    length = params.seq_len or seq_len
    if length is None:
        raise UserError("teacher.seq_len: the modes oracle needs a sequence length; set it or let the data give it")
    config = attrs.evolve(params, vocab_size=int(table.shape[0]), seq_len=length, embed_dim=int(table.shape[1]))
    with torch.device("cpu"):  # the schedule's table is data even when the network is built on the meta device
        schedule_params = make_params("schedule", params.schedule, num_timesteps=params.num_timesteps)
        schedule: Any = build("schedule", params.schedule, schedule_params)
    return ModesOracle(config, table, schedule.alphas_cumprod)

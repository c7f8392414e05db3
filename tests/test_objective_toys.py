"""Small hand-written denoisers and a context factory for the objective tests (plus checks of the toys)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import Any

import attrs
import torch
from torch import Tensor, nn

from dlmkit.injectors.replace_condition import ReplaceCondition
from dlmkit.interfaces import ConditioningInjector, Denoiser, DistillContext, NoiseSchedule
from dlmkit.objectives.discriminator import LOGIT_CLAMP
from dlmkit.schedules.discrete import DiscreteSchedule
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule

T = 2000
BATCH, LENGTH, DIM, HIDDEN, VOCAB = 3, 6, 4, 8, 11


@cache
def sqrt_schedule() -> DiscreteSchedule:
    return build_sqrt_schedule(SqrtScheduleParams(num_timesteps=T))


class MlpDenoiser(nn.Module):
    """A tiny x0-predictor: per-token MLP plus one token-mixing layer, returning its hidden states too."""

    def __init__(self, seed: int = 0, seq_len: int = LENGTH, embed_dim: int = DIM, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.num_timesteps, self.seq_len, self.embed_dim, self.vocab_size = T, seq_len, embed_dim, VOCAB
        self.inp = nn.Linear(embed_dim + 1, hidden)
        self.mix = nn.Linear(seq_len, seq_len, bias=False)
        self.out = nn.Linear(hidden, embed_dim)
        self.table = nn.Embedding(VOCAB, embed_dim)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.5)
        self.double()

    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        time = (t.to(x_t.dtype) / self.num_timesteps)[:, None, None].expand(*x_t.shape[:2], 1)
        h = torch.tanh(self.inp(torch.cat([x_t, time], dim=-1)))
        h = h + torch.tanh(self.mix(h.transpose(1, 2)).transpose(1, 2))
        return self.out(h), h

    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        return self.denoise_with_features(x_t, t)[0]

    def embed(self, ids: Tensor) -> Tensor:
        return self.table(ids)

    def logits(self, x: Tensor) -> Tensor:
        return x @ self.table.weight.T

    def round(self, x: Tensor) -> Tensor:
        return torch.cdist(x, self.table.weight[None].expand(x.shape[0], -1, -1)).argmin(-1)


def channel_mean_logits(hidden: Tensor) -> Tensor:
    """A parameter-free head for loss-algebra tests: constant hidden states give that constant as logit."""
    return hidden.mean(-1).clamp(-LOGIT_CLAMP, LOGIT_CLAMP)


class ConstantFeatures(nn.Module):
    """Wraps a denoiser and replaces its hidden states by a constant, to pin the discriminator's logits."""

    def __init__(self, inner: MlpDenoiser, value: float = 0.0) -> None:
        super().__init__()
        self.inner, self.value = inner, value
        self.num_timesteps, self.seq_len, self.embed_dim, self.vocab_size = T, inner.seq_len, inner.embed_dim, VOCAB

    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        pred, h = self.inner.denoise_with_features(x_t, t)
        return pred, h * 0.0 + self.value

    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        return self.inner.denoise(x_t, t)

    def embed(self, ids: Tensor) -> Tensor:
        return self.inner.embed(ids)

    def logits(self, x: Tensor) -> Tensor:
        return self.inner.logits(x)

    def round(self, x: Tensor) -> Tensor:
        return self.inner.round(x)


class Recorder(nn.Module):
    """Wraps a denoiser and records every call: (method, x_t, t)."""

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self.inner = inner
        self.calls: list[tuple[str, Tensor, Tensor]] = []
        self.num_timesteps, self.seq_len, self.embed_dim, self.vocab_size = T, inner.seq_len, inner.embed_dim, VOCAB

    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        self.calls.append(("denoise_with_features", x_t.detach().clone(), t.clone()))
        return self.inner.denoise_with_features(x_t, t)

    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        self.calls.append(("denoise", x_t.detach().clone(), t.clone()))
        return self.inner.denoise(x_t, t)

    def embed(self, ids: Tensor) -> Tensor:
        return self.inner.embed(ids)

    def logits(self, x: Tensor) -> Tensor:
        return self.inner.logits(x)

    def round(self, x: Tensor) -> Tensor:
        return self.inner.round(x)


def prefix_mask(batch: int, length: int, cuts: list[int]) -> Tensor:
    """DiffuSeq ``input_mask`` rows: ``cuts[i]`` condition positions, then targets."""
    return torch.stack([(torch.arange(length) >= c).long() for c in cuts[:batch]])


@attrs.define
class ContextMaker:
    """Builds DistillContexts the way the trainer does, for ``update`` in ``{"psi", "generator"}``.

    The generator is a leaf tensor ``theta`` (so its gradient is easy to read) passed through the injector.
    ``t`` fixes every timestep; ``None`` draws uniformly over the whole schedule.
    """

    teacher: Any = attrs.field(factory=lambda: MlpDenoiser(seed=0))
    psi: Any = None
    injector: ConditioningInjector = attrs.field(factory=ReplaceCondition)
    schedule: NoiseSchedule = attrs.field(factory=sqrt_schedule)
    batch: int = BATCH
    length: int = LENGTH
    dim: int = DIM
    seed: int = 0
    t: int | None = None
    dtype: torch.dtype = torch.float64
    theta: Tensor = attrs.field(factory=lambda: torch.empty(0))
    discriminator: Callable[[Tensor], Tensor] = attrs.field(factory=lambda: channel_mean_logits)

    def __attrs_post_init__(self) -> None:
        if self.psi is None:
            self.psi = perturbed_copy(self.teacher, seed=self.seed + 100)

    def __call__(self, update: str) -> DistillContext:
        data = torch.Generator().manual_seed(self.seed)
        shape = (self.batch, self.length, self.dim)
        cuts = torch.randint(1, self.length - 1, (self.batch,), generator=data).tolist()
        mask = prefix_mask(self.batch, self.length, cuts)
        real_cuts = torch.randint(1, self.length - 1, (self.batch,), generator=data).tolist()
        x_cond = torch.randn(shape, generator=data, dtype=self.dtype)
        x_real = torch.randn(shape, generator=data, dtype=self.dtype) + 0.5
        raw = torch.randn(shape, generator=data, dtype=self.dtype)
        self.theta = raw.clone().requires_grad_(update == "generator")
        x_gen = self.injector.generated(self.theta * 1.0, x_cond, mask)
        for net in (self.teacher, self.psi):
            net.requires_grad_(False)
            net.eval()
        if update == "psi":
            self.psi.requires_grad_(True)
            self.psi.train()
            x_gen = x_gen.detach()
        draws = torch.Generator().manual_seed(self.seed + 1)
        fixed = self.t

        def sample_t(batch: int) -> Tensor:
            if fixed is not None:
                return torch.full((batch,), fixed, dtype=torch.long)
            return self.schedule.sample_timesteps(batch, 0, T - 1, generator=draws)

        return DistillContext(
            teacher=self.teacher,
            psi=self.psi,
            schedule=self.schedule,
            injector=self.injector,
            mask=mask,
            x_gen=x_gen,
            x_real=x_real,
            real_mask=prefix_mask(self.batch, self.length, real_cuts),
            sample_t=sample_t,
            generator=draws,
            discriminator=self.discriminator,
        )


def perturbed_copy(net: Any, seed: int, scale: float = 0.05) -> Any:
    """A copy of ``net`` with slightly different weights (psi after some training)."""
    other = copy.deepcopy(net)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * scale)
    return other


def test_mlp_denoiser_satisfies_the_denoiser_protocol() -> None:
    net = MlpDenoiser()
    x = torch.randn(2, LENGTH, DIM, dtype=torch.float64)
    pred, hidden = net.denoise_with_features(x, torch.tensor([0, T - 1]))
    assert isinstance(net, Denoiser)
    assert pred.shape == x.shape and hidden.shape == (2, LENGTH, HIDDEN)


def test_mlp_denoiser_treats_samples_independently() -> None:
    net = MlpDenoiser()
    x = torch.randn(3, LENGTH, DIM, dtype=torch.float64)
    t = torch.tensor([5, 500, 1999])
    together = net.denoise(x, t)
    alone = torch.cat([net.denoise(x[i : i + 1], t[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(together, alone)


def test_context_maker_follows_the_trainer_setup() -> None:
    make = ContextMaker()
    gen = make("generator")
    assert gen.x_gen.requires_grad and not any(p.requires_grad for p in make.psi.parameters())
    assert not make.psi.training and not make.teacher.training
    psi = make("psi")
    assert not psi.x_gen.requires_grad and all(p.requires_grad for p in make.psi.parameters())
    assert make.psi.training and not any(p.requires_grad for p in make.teacher.parameters())

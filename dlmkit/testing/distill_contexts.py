"""Distillation contexts built around a real teacher, for ``check_objective`` in a plugin's own tests.

``TeacherContexts(teacher)`` is the ``make_context`` argument of
``dlmkit.testing.objective_contract.check_objective``: each call gives a fresh batch of real
token ids embedded by the teacher, a generator sample that is a leaf tensor passed through the
injector (so its gradient is easy to inspect), and psi as a slightly perturbed copy of the
teacher, with train/eval modes and ``requires_grad`` set the way the ``distill`` stage sets them.
The teacher must be deterministic (no dropout) or the contract's permutation check cannot hold.
psi's discriminator head is a ``DiscriminatorHead`` with small random weights, so that logits vary.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import attrs
import torch
from torch import Tensor

from dlmkit.interfaces import ConditioningInjector, DistillContext, NoiseSchedule, Teacher
from dlmkit.objectives.discriminator import DiscriminatorHead, feature_width


def perturbed_copy(teacher: Teacher, seed: int, scale: float = 0.02) -> Teacher:
    """A deep copy of ``teacher`` with every weight nudged: psi some way into training."""
    other = copy.deepcopy(teacher)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(torch.randn(p.shape, generator=generator).to(p) * scale)
    return other


def _default_schedule(teacher: Teacher) -> NoiseSchedule:
    from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule

    return build_sqrt_schedule(SqrtScheduleParams(num_timesteps=teacher.num_timesteps))


def _default_injector() -> ConditioningInjector:
    from dlmkit.injectors.replace_condition import ReplaceCondition

    return ReplaceCondition()


def _set_trainable(net: Any, trainable: bool) -> None:
    for p in net.parameters():
        p.requires_grad_(trainable)
    net.train(trainable)


@attrs.define
class TeacherContexts:
    """``make_context(update)`` for ``check_objective``, with ``update`` in ``{"psi", "generator"}``.

    ``seq_len`` defaults to the teacher's; timesteps are drawn uniformly from ``[t_min, t_max]``
    (default: the whole schedule).  ``theta`` is the last generator leaf, for gradient checks.
    """

    teacher: Teacher
    batch: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    seq_len: int | None = None
    schedule: NoiseSchedule | None = None
    injector: ConditioningInjector | None = None
    psi: Teacher | None = None
    seed: int = 0
    t_min: int = 0
    t_max: int | None = None
    theta: Tensor = attrs.field(factory=lambda: torch.empty(0))
    calls: int = 0
    head: DiscriminatorHead | None = None

    def __attrs_post_init__(self) -> None:
        self.schedule = self.schedule or _default_schedule(self.teacher)
        self.injector = self.injector or _default_injector()
        if self.psi is None:
            self.psi = perturbed_copy(self.teacher, seed=self.seed + 100)
        if self.head is None:
            device = self.teacher.embedding_weight.device
            width = feature_width(self.psi, self.seq_len or self.teacher.seq_len, self.teacher.embed_dim, device)
            self.head = DiscriminatorHead(width).to(device)
            with torch.no_grad():  # a head some way into training, so logits differ between tokens
                draws = torch.Generator().manual_seed(self.seed + 200)
                self.head.proj.weight.copy_(torch.randn(self.head.proj.weight.shape, generator=draws) * 0.1)

    def __call__(self, update: Literal["psi", "generator"] | str) -> DistillContext:
        assert self.schedule is not None and self.injector is not None and self.psi is not None
        assert self.head is not None
        self.calls += 1
        data = torch.Generator().manual_seed(self.seed * 7919 + self.calls)
        length = self.seq_len or self.teacher.seq_len
        device = self.teacher.embedding_weight.device
        ids = torch.randint(0, self.teacher.vocab_size, (self.batch, length), generator=data)
        real_ids = torch.randint(0, self.teacher.vocab_size, (self.batch, length), generator=data)
        mask = self._prefix_mask(length, data)
        real_mask = self._prefix_mask(length, data)
        ids, real_ids, mask, real_mask = (x.to(device) for x in (ids, real_ids, mask, real_mask))
        _set_trainable(self.teacher, False)
        _set_trainable(self.psi, update == "psi")
        _set_trainable(self.head, update == "psi")
        with torch.no_grad():
            clean = self.teacher.embed(ids)
            x_real = self.teacher.embed(real_ids)
        x_cond = clean * (1 - mask.unsqueeze(-1).to(clean.dtype))
        wobble = torch.randn(clean.shape, generator=data).to(clean) * 0.3
        self.theta = (clean + wobble).detach().requires_grad_(update == "generator")
        x_gen = self.injector.generated(self.theta * 1.0, x_cond, mask)
        if update == "psi":
            x_gen = x_gen.detach()
        draws = torch.Generator(device=device).manual_seed(self.seed * 7919 + self.calls + 10_000)
        t_max = self.schedule.num_timesteps - 1 if self.t_max is None else self.t_max
        schedule = self.schedule

        def sample_t(batch: int) -> Tensor:
            return schedule.sample_timesteps(batch, self.t_min, t_max, generator=draws, device=device)

        return DistillContext(
            teacher=self.teacher,
            psi=self.psi,
            schedule=schedule,
            injector=self.injector,
            mask=mask,
            x_gen=x_gen,
            x_real=x_real,
            real_mask=real_mask,
            sample_t=sample_t,
            generator=draws,
            discriminator=self.head,
        )

    def _prefix_mask(self, length: int, generator: torch.Generator) -> Tensor:
        cuts = torch.randint(1, max(2, length - 1), (self.batch,), generator=generator)
        return (torch.arange(length)[None, :] >= cuts[:, None]).long()

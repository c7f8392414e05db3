"""psi's discriminator can learn: trained alone on fixed real and generated batches, it separates them.

The first discriminator (channel mean of psi's last, LayerNorm-ed hidden state) could not: its logits
were pinned near ``mean(beta)`` for any input.  Here psi and its head train on the discriminator loss
only, with the distill stage's noising (shared ``t`` and ``eps`` for real and generated samples).
"""

from __future__ import annotations

import torch

from dlmkit.injectors.replace_condition import ReplaceCondition
from dlmkit.interfaces import Batch, DistillContext
from dlmkit.objectives.adversarial import Adversarial
from dlmkit.objectives.discriminator import DiscriminatorHead, feature_width
from dlmkit.samplers.one_step import OneStepParams, OneStepSampler
from dlmkit.schedules.discrete import DiscreteSchedule
from dlmkit.schedules.sqrt import SqrtScheduleParams, build_sqrt_schedule
from dlmkit.testing.toy_teacher import ToyTeacher, ToyTeacherParams, build_toy_teacher

BATCH, LENGTH, VOCAB = 32, 16, 40


def _fixed_batches() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, ToyTeacher, DiscreteSchedule]:
    torch.manual_seed(0)
    teacher = build_toy_teacher(ToyTeacherParams(embed_dim=16, hidden_size=32, num_layers=2), VOCAB, LENGTH).eval()
    schedule = build_sqrt_schedule(SqrtScheduleParams(num_timesteps=2000))
    data = torch.Generator().manual_seed(1)
    ids = torch.randint(5, VOCAB, (BATCH, LENGTH), generator=data)
    mask = (torch.arange(LENGTH)[None, :] >= LENGTH // 2).long().expand(BATCH, -1)
    with torch.no_grad():
        z = torch.randn(BATCH, LENGTH, teacher.embed_dim, generator=data)
        x_gen = OneStepSampler(OneStepParams(1490)).generate(teacher, Batch(ids, mask), schedule, z, ReplaceCondition())
        x_real = teacher.embed(torch.randint(5, VOCAB, (BATCH, LENGTH), generator=data))
    return x_gen, x_real, mask, teacher, schedule


def test_psi_learns_to_tell_real_from_generated() -> None:
    x_gen, x_real, mask, teacher, schedule = _fixed_batches()
    psi = build_toy_teacher(ToyTeacherParams(embed_dim=16, hidden_size=32, num_layers=2), VOCAB, LENGTH)
    psi.load_state_dict(teacher.state_dict())
    psi.train()
    head = DiscriminatorHead(feature_width(psi, LENGTH, psi.embed_dim, torch.device("cpu")))
    optimizer = torch.optim.Adam([*psi.parameters(), *head.parameters()], lr=1e-3, betas=(0.0, 0.999))
    draws = torch.Generator().manual_seed(2)

    def context() -> DistillContext:
        return DistillContext(
            teacher=teacher,
            psi=psi,
            schedule=schedule,
            injector=ReplaceCondition(),
            mask=mask,
            x_gen=x_gen,
            x_real=x_real,
            real_mask=mask,
            sample_t=lambda n: schedule.sample_timesteps(n, 0, 1200, generator=draws),
            generator=draws,
            discriminator=head,
        )

    objective = Adversarial()
    gaps, accuracies = [], []
    for _ in range(150):
        out = objective.psi_loss(context())
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        gaps.append(float(out.terms["logit_real"]) - float(out.terms["logit_fake"]))
        accuracies.append(0.5 * (float(out.terms["disc_acc_real"]) + float(out.terms["disc_acc_fake"])))
    assert gaps[0] == 0.0 and accuracies[0] == 0.5  # a zero head: every logit 0, every token a tie
    assert sum(gaps[-20:]) / 20 > 2.0
    assert sum(accuracies[-20:]) / 20 > 0.9

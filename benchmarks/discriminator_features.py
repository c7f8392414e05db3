"""Which features let psi discriminate?  Three logit choices trained side by side on the same batches.

    python benchmarks/discriminator_features.py RECIPE [--steps 60] [--batch-size 16] [--t-max 1200]

RECIPE names the data and the teacher (``[teacher] checkpoint``).  Real samples are the embedded
training pairs; generated samples are the undistilled student's (the teacher's one-step prediction
at the recipe's ``t_init``), fixed for the whole run.  For each choice a fresh psi (a copy of the
teacher) trains on the discriminator loss alone (shared ``t`` and noise for real and generated, as
in the ``distill`` stage), and the script prints the real-minus-generated logit gap and the accuracy
on held-out draws of ``t`` and noise after every quarter of the steps:

- ``channel_mean``: the mean over channels of psi's last hidden state (SiDA's parameter-free pooling);
- ``token_pool``: each channel's mean over target tokens as a logit (SiD-DiT's spatial pooling);
- ``linear_head``: dlmkit's ``DiscriminatorHead``, a zero-initialised linear map per token.
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Callable

import torch
from torch import Tensor

LOGIT_CLAMP = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--t-max", type=int, default=1200)
    parser.add_argument("--lr", type=float, default=1e-4)
    args = parser.parse_args()
    from dlmkit.inference.sources import open_source
    from dlmkit.injectors.replace_condition import ReplaceCondition
    from dlmkit.interfaces import Batch
    from dlmkit.objectives.discriminator import DiscriminatorHead, feature_width
    from dlmkit.samplers.one_step import OneStepParams, OneStepSampler
    from dlmkit.storage.teacher_files import load_teacher

    source = open_source(args.recipe)
    recipe = source.recipe
    if recipe.teacher.checkpoint is None:
        raise SystemExit(f"{args.recipe}: [teacher] checkpoint must name a trained teacher")
    teacher = load_teacher(recipe.teacher.checkpoint).eval()
    schedule = source.schedule
    t_init = int(getattr(recipe.sampler.params, "t_init", schedule.num_timesteps - 1))
    train = source.dataset.split("train")
    g = torch.Generator().manual_seed(0)
    pick = torch.randint(0, len(train), (2, args.batch_size), generator=g)
    ids, mask = train.input_ids[pick[0]], train.input_mask[pick[0]]
    real_ids, real_mask = train.input_ids[pick[1]], train.input_mask[pick[1]]
    with torch.no_grad():
        z = torch.randn(*ids.shape, teacher.embed_dim, generator=g)
        x_gen = OneStepSampler(OneStepParams(t_init)).generate(
            teacher, Batch(ids, mask), schedule, z, ReplaceCondition()
        )
        x_real = teacher.embed(real_ids)
    width = feature_width(teacher, teacher.seq_len, teacher.embed_dim, torch.device("cpu"))
    heads: dict[str, Callable[[], tuple[torch.nn.Module | None, Callable[[Tensor, Tensor], Tensor]]]] = {
        "channel_mean": lambda: (None, lambda h, m: h.mean(-1).clamp(-LOGIT_CLAMP, LOGIT_CLAMP)),
        "token_pool": lambda: (None, _token_pool),
        "linear_head": lambda: _with_head(DiscriminatorHead(width)),
    }
    print(f"teacher {recipe.teacher.checkpoint}, t_init {t_init}, batch {args.batch_size}, t in [0, {args.t_max}]")
    for name, make in heads.items():
        psi = copy.deepcopy(teacher).train()
        head, logits = make()
        params = [*psi.parameters(), *(head.parameters() if head is not None else [])]
        optimizer = torch.optim.Adam(params, lr=args.lr, betas=(0.0, 0.999))
        draws = torch.Generator().manual_seed(1)
        for step in range(1, args.steps + 1):
            loss, _, _ = _disc(psi, logits, schedule, x_gen, x_real, mask, real_mask, args.t_max, draws)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % max(1, args.steps // 4) == 0:
                with torch.no_grad():
                    held_out = torch.Generator().manual_seed(99)
                    _, gap, acc = _disc(psi, logits, schedule, x_gen, x_real, mask, real_mask, args.t_max, held_out)
                print(f"{name:>12} step {step:4d}: logit gap (real - generated) {gap:+.3f}, accuracy {acc:.3f}")


def _with_head(head: torch.nn.Module) -> tuple[torch.nn.Module, Callable[[Tensor, Tensor], Tensor]]:
    return head, lambda h, m: head(h)


def _token_pool(hidden: Tensor, tokens: Tensor) -> Tensor:
    """``[B, H]``: each channel's mean over target tokens, one logit per channel (SiD-DiT)."""
    weights = tokens.to(hidden.dtype)[..., None]
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0)
    return pooled.clamp(-LOGIT_CLAMP, LOGIT_CLAMP)


def _disc(
    psi: torch.nn.Module,
    logits: Callable[[Tensor, Tensor], Tensor],
    schedule: object,
    x_gen: Tensor,
    x_real: Tensor,
    mask: Tensor,
    real_mask: Tensor,
    t_max: int,
    draws: torch.Generator,
) -> tuple[Tensor, float, float]:
    """The discriminator loss at shared ``t``/``eps``, the mean logit gap and the accuracy."""
    t = schedule.sample_timesteps(x_gen.shape[0], 0, t_max, generator=draws)  # type: ignore[attr-defined]
    eps = torch.randn(x_gen.shape, generator=draws)
    outs = []
    for x0, m in ((x_real, real_mask), (x_gen, mask)):
        x_t = schedule.q_sample(x0, t, eps, m)  # type: ignore[attr-defined]
        _, hidden = psi.denoise_with_features(x_t, t)  # type: ignore[operator]
        outs.append((logits(hidden, m), m))
    from dlmkit.objectives.discriminator import accuracy, fake_bce, real_bce

    (l_real, m_real), (l_fake, m_fake) = outs
    # per-token logits are weighted by the target mask; token_pool's per-channel logits all count
    w_real = m_real.to(l_real.dtype) if l_real.shape == m_real.shape else torch.ones_like(l_real)
    w_fake = m_fake.to(l_fake.dtype) if l_fake.shape == m_fake.shape else torch.ones_like(l_fake)
    loss = 0.5 * (real_bce(l_real, w_real).mean() + fake_bce(l_fake, w_fake).mean())
    gap = float(((l_real * w_real).sum() / w_real.sum() - (l_fake * w_fake).sum() / w_fake.sum()).item())
    acc = 0.5 * (accuracy(l_real, w_real, real=True) + accuracy(l_fake, w_fake, real=False))
    return loss, gap, acc


if __name__ == "__main__":
    main()

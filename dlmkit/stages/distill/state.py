"""What a distillation stage holds: its networks, their optimisers and its random streams.

The update and the validator read and change this state; a checkpoint is its ``state_dict`` plus
its ``modules``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch

from dlmkit.engine.context import RunContext
from dlmkit.engine.ema import EMA
from dlmkit.errors import UserError
from dlmkit.interfaces import Teacher
from dlmkit.interfaces.stage import STUDENT_ARTIFACT
from dlmkit.interfaces.teacher import as_module
from dlmkit.objectives.discriminator import HEAD_FILE, DiscriminatorHead, feature_width
from dlmkit.randomness import stage_seed
from dlmkit.stages.distill.params import PSI_ARTIFACT
from dlmkit.storage.checkpoint import load_module
from dlmkit.storage.teacher_files import load_teacher

if TYPE_CHECKING:
    from dlmkit.stages.distill.params import DistillParams
    from dlmkit.stages.optim import OptimSpec


def make_optimizer(
    params: list[torch.nn.Parameter],
    spec: OptimSpec,
    extra: list[torch.nn.Parameter] | None = None,
    extra_lr: float | None = None,
) -> torch.optim.Optimizer:
    """AdamW per ``spec``; ``extra`` parameters (psi's discriminator head) get ``extra_lr`` in their own group."""
    groups: list[dict[str, Any]] = [{"params": params}]
    if extra:
        groups.append({"params": list(extra), "lr": spec.lr if extra_lr is None else extra_lr})
    return torch.optim.AdamW(
        groups, lr=spec.lr, betas=(spec.betas[0], spec.betas[1]), eps=spec.eps, weight_decay=spec.weight_decay
    )


def trainable(module: Teacher) -> list[torch.nn.Parameter]:
    """Every parameter except the embedding table, which stays the teacher's (frozen) throughout."""
    frozen = module.embedding_weight
    frozen.requires_grad_(False)
    return [p for p in module.parameters() if p is not frozen and p.requires_grad]


def copy_of(teacher: Teacher, weights: Path | None) -> Teacher:
    """A trainable copy of the teacher, with ``weights`` (an earlier stage's file) when given."""
    net = copy.deepcopy(teacher)
    if weights is not None:
        net.load_state_dict(load_teacher(weights).state_dict())
    for p in net.parameters():
        p.requires_grad_(True)
    return net


def network_like(teacher: Teacher, path: str | None, where: str) -> Teacher:
    """The teacher, or the network in the teacher file ``path``, which must share the teacher's sequence space."""
    if path is None:
        return teacher
    if not Path(path).is_file():
        raise UserError(f"{where}: no such teacher file {path}")
    network = load_teacher(Path(path))
    for key in ("vocab_size", "seq_len", "embed_dim", "num_timesteps"):
        if getattr(network, key) != getattr(teacher, key):
            raise UserError(
                f"{where}: {path} has {key} {getattr(network, key)} but the teacher has {getattr(teacher, key)}; "
                "a student or psi must live in the teacher's space"
            )
    same_table = torch.equal(network.embedding_weight.detach().cpu(), teacher.embedding_weight.detach().cpu())
    if not same_table:
        raise UserError(
            f"{where}: {path} has another embedding table than the teacher; use the file the teacher's table came from"
        )
    return network


def without_unused_head(saved: dict[str, Any], optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """psi's saved optimiser state, less the head's group when a checkpoint written before objectives declared
    their head (every stage had one) resumes with an objective that has none: that group never had a gradient."""
    groups = saved["param_groups"]
    if len(groups) != len(optimizer.param_groups) + 1:
        return saved
    unused = set(groups[-1]["params"])
    return {"state": {k: v for k, v in saved["state"].items() if k not in unused}, "param_groups": groups[:-1]}


class DistillState:
    """The frozen teacher, the student (and its EMA), psi (with a discriminator head when the objective
    uses one), two optimisers and the stage's random streams."""

    def __init__(self, ctx: RunContext, name: str, stage: DistillParams, teacher: Teacher, with_head: bool = True):
        device = ctx.runtime.device
        self.teacher = teacher
        self.teacher.to(device).eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        init = ctx.results[stage.init_student] if stage.init_student != "teacher" else None
        student_base = network_like(teacher, stage.student_from, f'[[stage]] "{name}" student_from')
        self.student = copy_of(student_base, init.artifacts[STUDENT_ARTIFACT] if init else None).to(device)
        psi_from = init.artifacts[PSI_ARTIFACT] if (init is not None and stage.init_psi == "previous") else None
        psi_base = network_like(teacher, stage.psi_from, f'[[stage]] "{name}" psi_from')
        self.psi = copy_of(psi_base, psi_from).to(device)
        # psi's discriminator head is part of psi: fresh with a fresh psi, carried over with psi otherwise
        self.head: DiscriminatorHead | None = None
        if with_head:
            width = feature_width(self.psi, self.teacher.seq_len, self.teacher.embed_dim, device)
            self.head = DiscriminatorHead(width).to(device)
            if psi_from is not None and (psi_from.parent / HEAD_FILE).exists():
                load_module(self.head, psi_from.parent / HEAD_FILE)
        self.student_params = trainable(self.student)
        psi_trunk = trainable(self.psi)
        head_params = list(self.head.parameters()) if self.head is not None else []
        self.psi_params = [*psi_trunk, *head_params]
        if not self.psi_params and stage.optim.psi.lr > 0:
            raise UserError(
                f'[[stage]] "{name}": psi has no parameters to train (the teacher it copies has none); set '
                "psi_from to a network file, or [stage.optim.psi] lr = 0 for a psi frozen at the teacher"
            )
        self.opt_g = make_optimizer(self.student_params, stage.optim.generator)
        self.opt_psi = make_optimizer(psi_trunk, stage.optim.psi, head_params, stage.optim.head_lr)
        #: each group's rate as the recipe sets it, which an ``lr_final`` anneals from
        self.base_lrs = {
            "psi": [float(g["lr"]) for g in self.opt_psi.param_groups],
            "generator": [float(g["lr"]) for g in self.opt_g.param_groups],
        }
        self.ema = EMA(as_module(self.student), stage.ema_decay) if stage.ema_decay > 0 else None
        seed = stage_seed(ctx.recipe.header.seed, name)
        world = ctx.runtime.world
        self.rng = torch.Generator().manual_seed(seed)  # shared by all ranks: data and generator noise
        # the objective's own draws (timesteps, noise) differ per rank; one process uses a single stream
        self.objective_rng = (
            self.rng if not world.distributed else torch.Generator().manual_seed(seed + 7919 * world.rank)
        )

    def eval_model(self) -> Teacher:
        """The student as validated and kept: its EMA when the stage keeps one."""
        return cast(Teacher, self.ema.shadow) if self.ema is not None else self.student

    def modules(self) -> dict[str, torch.nn.Module]:
        modules: dict[str, torch.nn.Module] = {"student": as_module(self.student), "psi": as_module(self.psi)}
        if self.head is not None:
            modules["disc_head"] = self.head
        if self.ema is not None:
            modules["ema"] = self.ema.shadow
        return modules

    def state_dict(self) -> dict[str, Any]:
        return {
            "opt_g": self.opt_g.state_dict(),
            "opt_psi": self.opt_psi.state_dict(),
            "generator": self.rng.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_psi.load_state_dict(without_unused_head(state["opt_psi"], self.opt_psi))
        self.rng.set_state(state["generator"])

"""Contract checks any objective plugin can run against its own tiny networks.

``check_objective(objective, make_context)`` calls ``make_context("psi")`` / ``make_context("generator")``
for a fresh context set up the way the trainer sets it up:

* ``"psi"``: ``x_gen`` detached; psi in train mode with trainable parameters;
* ``"generator"``: ``x_gen`` carries the graph to a generator (``requires_grad``); psi and teacher in
  eval mode with ``requires_grad`` False on their parameters.

Each context should hold a fresh random batch (``x_real`` of the same shape as ``x_gen``) and
deterministic networks (no dropout, no cross-sample layers), or the permutation check cannot hold.
The checks control timesteps and noise themselves.  A failed check raises ``ContractViolation``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

import attrs
import torch
from torch import Tensor

from dlmkit.interfaces.objective import DistillContext, LossOutput, Objective

Update = Literal["psi", "generator"]
ContextFactory = Callable[[Update], DistillContext]


class ContractViolation(AssertionError):
    """An objective (or the context factory given to the checks) breaks the objective contract."""


def check_objective(objective: Objective, make_context: ContextFactory, *, rtol: float = 1e-4) -> None:
    """Run every check; raise ``ContractViolation`` naming the first that fails."""
    check_attributes(objective)
    check_extreme_timesteps(objective, make_context)
    check_generator_gradients(objective, make_context)
    check_psi_gradients(objective, make_context)
    check_permutation_invariance(objective, make_context, rtol=rtol)


def check_attributes(objective: Objective) -> None:
    """``generator_every`` is an int >= 1 and ``uses_real_data`` a bool."""
    every = getattr(objective, "generator_every", None)
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ContractViolation(f"generator_every must be an int >= 1, got {every!r}")
    if not isinstance(getattr(objective, "uses_real_data", None), bool):
        raise ContractViolation(f"uses_real_data must be a bool, got {getattr(objective, 'uses_real_data', None)!r}")
    if not isinstance(objective, Objective):
        raise ContractViolation(f"{type(objective).__name__} does not satisfy dlmkit.interfaces.Objective")


def check_extreme_timesteps(objective: Objective, make_context: ContextFactory) -> None:
    """Both losses are finite scalars with float terms at ``t = 0`` and ``t = T - 1``."""
    for update in ("psi", "generator"):
        ctx = make_context(update)
        for t in (0, ctx.schedule.num_timesteps - 1):
            out = _loss(objective, update, _fixed_t(make_context(update), t))
            _check_output(out, f"{update} loss at t = {t}")


def check_generator_gradients(objective: Objective, make_context: ContextFactory) -> None:
    """The generator loss reaches ``x_gen`` and leaves psi and the teacher untouched."""
    ctx = make_context("generator")
    if not ctx.x_gen.requires_grad:
        raise ContractViolation("make_context('generator') must give an x_gen that requires grad")
    before = _network_state(ctx)
    _clear_grads(ctx)
    out = objective.generator_loss(ctx)
    _check_output(out, "generator loss")
    (grad,) = torch.autograd.grad(out.loss, ctx.x_gen, retain_graph=True, allow_unused=True)
    if grad is None or not bool(torch.isfinite(grad).all()) or not bool((grad != 0).any()):
        raise ContractViolation("the generator loss gives x_gen no finite, non-zero gradient")
    if out.loss.requires_grad:
        out.loss.backward()
    _check_no_grads(ctx.teacher, "teacher", "generator")
    _check_no_grads(ctx.psi, "psi", "generator")
    if _network_state(ctx) != before:
        raise ContractViolation("the generator loss changed the train/eval mode or requires_grad of psi or teacher")


def check_psi_gradients(objective: Objective, make_context: ContextFactory) -> None:
    """The psi loss trains psi, not the teacher, and sends nothing back into the generator's graph."""
    ctx = make_context("psi")
    stand_in = ctx.x_gen.detach().clone().requires_grad_(True)
    ctx = attrs.evolve(ctx, x_gen=stand_in)
    before = _network_state(ctx)
    _clear_grads(ctx)
    out = objective.psi_loss(ctx)
    _check_output(out, "psi loss")
    if not out.loss.requires_grad:
        raise ContractViolation("the psi loss has no graph: psi would never be trained")
    (grad,) = torch.autograd.grad(out.loss, stand_in, retain_graph=True, allow_unused=True)
    if grad is not None and bool((grad != 0).any()):
        raise ContractViolation("the psi loss sends gradients into x_gen; detach the generator sample")
    out.loss.backward()
    grads = [p.grad for p in _parameters(ctx.psi)]
    if not any(g is not None and bool((g != 0).any()) for g in grads):
        raise ContractViolation("the psi loss gives psi's parameters no gradient")
    if any(g is not None and not bool(torch.isfinite(g).all()) for g in grads):
        raise ContractViolation("the psi loss gives psi non-finite gradients")
    _check_no_grads(ctx.teacher, "teacher", "psi")
    if _network_state(ctx) != before:
        raise ContractViolation("the psi loss changed the train/eval mode or requires_grad of psi or teacher")


def check_permutation_invariance(objective: Objective, make_context: ContextFactory, *, rtol: float = 1e-4) -> None:
    """Permuting the batch (with its timesteps and noise) leaves both losses unchanged."""
    for update in ("psi", "generator"):
        ctx = make_context(update)
        batch = ctx.x_gen.shape[0]
        perm = torch.roll(torch.arange(batch), 1) if batch > 1 else torch.arange(batch)
        tape = _Tape()
        first = _loss(objective, update, _taped(ctx, tape))
        tape.replay(perm)
        permuted = attrs.evolve(
            ctx,
            x_gen=ctx.x_gen[perm],
            mask=ctx.mask[perm],
            x_real=ctx.x_real[perm],
            real_mask=ctx.real_mask[perm],
        )
        second = _loss(objective, update, _taped(permuted, tape))
        a, b = float(first.loss.detach()), float(second.loss.detach())
        if not abs(a - b) <= rtol * max(abs(a), abs(b)) + 1e-7:
            raise ContractViolation(f"the {update} loss depends on the order of the batch: {a} vs {b} after permuting")


@attrs.define
class _Tape:
    """Records every random draw an objective makes, then plays it back with the batch permuted."""

    draws: list[Tensor] = attrs.field(factory=list)
    perm: Tensor | None = None
    cursor: int = 0

    def replay(self, perm: Tensor) -> None:
        self.perm, self.cursor = perm, 0

    def take(self, fresh: Callable[[], Tensor]) -> Tensor:
        if self.perm is None:
            value = fresh()
            self.draws.append(value)
            return value
        if self.cursor >= len(self.draws):
            raise ContractViolation("the objective drew more random tensors on the permuted batch than on the original")
        value = self.draws[self.cursor]
        self.cursor += 1
        return value[self.perm.to(value.device)]


@attrs.define
class _TapedContext(DistillContext):
    """A context whose noise comes from a tape (``noise_like`` is the only randomness besides ``sample_t``)."""

    tape: _Tape = attrs.field(factory=_Tape)

    def noise_like(self, x: Tensor) -> Tensor:
        return self.tape.take(lambda: DistillContext.noise_like(self, x))


def _taped(ctx: DistillContext, tape: _Tape) -> DistillContext:
    values = {f.name: getattr(ctx, f.name) for f in attrs.fields(DistillContext)}
    sample_t = ctx.sample_t
    values["sample_t"] = lambda batch: tape.take(lambda: sample_t(batch))
    return _TapedContext(**values, tape=tape)


def _fixed_t(ctx: DistillContext, t: int) -> DistillContext:
    return attrs.evolve(ctx, sample_t=lambda batch: torch.full((batch,), t, dtype=torch.long))


def _loss(objective: Objective, update: str, ctx: DistillContext) -> LossOutput:
    return objective.psi_loss(ctx) if update == "psi" else objective.generator_loss(ctx)


def _check_output(out: LossOutput, what: str) -> None:
    if not isinstance(out, LossOutput):
        raise ContractViolation(f"the {what} must be a LossOutput, got {type(out).__name__}")
    if out.loss.dim() != 0:
        raise ContractViolation(f"the {what} must be a scalar, got shape {tuple(out.loss.shape)}")
    if not bool(torch.isfinite(out.loss)):
        raise ContractViolation(f"the {what} is not finite: {float(out.loss.detach())}")
    for key, value in out.terms.items():
        scalar = type(value) is float or (isinstance(value, torch.Tensor) and value.dim() == 0)
        if not isinstance(key, str) or not scalar:
            raise ContractViolation(
                f"term {key!r} of the {what} must be a float or a 0-d tensor under a str key, got {value!r}"
            )
        if isinstance(value, torch.Tensor) and value.requires_grad:
            raise ContractViolation(f"term {key!r} of the {what} holds a graph: log it detached (.detach())")
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            raise ContractViolation(f"term {key!r} of the {what} is not finite: {number}")


def _parameters(net: Any) -> Iterator[torch.nn.Parameter]:
    params = getattr(net, "parameters", None)
    return iter(params()) if callable(params) else iter(())


def _clear_grads(ctx: DistillContext) -> None:
    for net in (ctx.teacher, ctx.psi):
        for p in _parameters(net):
            p.grad = None


def _check_no_grads(net: Any, name: str, update: str) -> None:
    if any(p.grad is not None for p in _parameters(net)):
        raise ContractViolation(f"the {update} loss left gradients on the {name}'s parameters")


def _network_state(ctx: DistillContext) -> tuple[Any, ...]:
    def state(net: Any) -> tuple[Any, ...]:
        return (getattr(net, "training", None), tuple(p.requires_grad for p in _parameters(net)))

    return state(ctx.teacher), state(ctx.psi)

"""Contract checks any teacher plugin runs in its own tests: ``check_teacher(teacher, vocab_size, seq_len)``.

A teacher that passes them can be trained by the ``train_teacher`` stage, distilled by every
objective, sampled by every sampler and saved and rebuilt from its checkpoint: the checks are
exactly what those parts of dlmkit rely on.  Shapes and values are checked by hypothesis over
drawn batches and timesteps (both ends of ``[0, T)`` always included).  The teacher is left as
it was found: same train/eval mode, same weights, same ``.grad``.  A failed check raises
``ContractViolation`` (an ``AssertionError``) naming the broken property.
"""

from __future__ import annotations

from collections.abc import Collection

import attrs
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import Tensor

from dlmkit.interface_check import missing_members
from dlmkit.interfaces import NoiseSchedule, Teacher
from dlmkit.testing.objective_contract import ContractViolation
from dlmkit.testing.strategies import timesteps
from dlmkit.testing.teacher_support import close, fail, like, mode, noisy_input
from dlmkit.testing.teacher_training_checks import check_gradients, check_round_trip

__all__ = [
    "ContractViolation",
    "check_denoise",
    "check_embeddings",
    "check_gradients",
    "check_interface",
    "check_round_trip",
    "check_teacher",
]


def check_teacher(
    teacher: Teacher,
    vocab_size: int,
    seq_len: int,
    *,
    schedule: NoiseSchedule | None = None,
    profile: settings | None = None,
    allow_zero_grad: Collection[str] = (),
) -> None:
    """Run every teacher check for data with ``vocab_size`` tokens packed to ``seq_len``.

    ``schedule`` is used for the training-loss check (default: ``sqrt`` over the teacher's
    ``num_timesteps``); ``profile`` replaces the hypothesis settings (default: the loaded profile
    without a deadline); parameters named
    in ``allow_zero_grad`` may receive an exactly zero (but present) gradient, for designs that
    zero-initialise a layer on purpose.
    """
    check_interface(teacher, vocab_size, seq_len)
    check_denoise(teacher, seq_len, profile)
    check_embeddings(teacher, vocab_size, seq_len, profile)
    check_round_trip(teacher, seq_len)
    check_gradients(teacher, vocab_size, seq_len, schedule, allow_zero_grad)


def _settings(profile: settings | None) -> settings:
    """The caller's profile, or the loaded one without a deadline: a network's first calls are slow."""
    if profile is not None:
        return profile
    return settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_interface(teacher: Teacher, vocab_size: int, seq_len: int) -> None:
    """A ``torch.nn.Module`` satisfying ``dlmkit.interfaces.Teacher`` with consistent sizes."""
    if not isinstance(teacher, torch.nn.Module):
        fail(f"{type(teacher).__name__} must be a torch.nn.Module (teachers are trained, copied and saved)")
    missing = missing_members(teacher, Teacher)
    if missing:
        fail(f"{type(teacher).__name__} does not satisfy dlmkit.interfaces.Teacher: it lacks {', '.join(missing)}")
    for name in ("num_timesteps", "seq_len", "embed_dim", "vocab_size"):
        value = getattr(teacher, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            fail(f"teacher.{name} must be a positive int, got {value!r}")
    if teacher.num_timesteps < 2:
        fail(f"teacher.num_timesteps must be at least 2, got {teacher.num_timesteps}")
    if teacher.vocab_size < vocab_size:
        fail(f"teacher.vocab_size ({teacher.vocab_size}) is smaller than the data's vocabulary ({vocab_size})")
    if teacher.seq_len < seq_len:
        fail(f"teacher.seq_len ({teacher.seq_len}) is shorter than the data's sequences ({seq_len})")
    weight = teacher.embedding_weight
    if not isinstance(weight, torch.nn.Parameter):
        fail(f"teacher.embedding_weight must be an nn.Parameter, got {type(weight).__name__}")
    if tuple(weight.shape) != (teacher.vocab_size, teacher.embed_dim):
        fail(
            f"teacher.embedding_weight has shape {tuple(weight.shape)}, expected (vocab_size, embed_dim) = "
            f"({teacher.vocab_size}, {teacher.embed_dim})"
        )
    if not any(weight is p for p in teacher.parameters()):
        fail("teacher.embedding_weight must be one of the teacher's own parameters (it is saved and trained)")
    if not isinstance(teacher.component, str) or not teacher.component:
        fail(f"teacher.component must be the registered name of the teacher, got {teacher.component!r}")
    if not attrs.has(type(teacher.config)):
        fail(
            f"teacher.config must be an instance of the teacher's attrs params class (checkpoints store it to "
            f"rebuild the network), got {type(teacher.config).__name__}"
        )


@torch.no_grad()
def _check_denoise_once(teacher: Teacher, x_t: Tensor, t: Tensor) -> None:
    batch, length, dim = x_t.shape
    out = teacher.denoise(x_t, t)
    if tuple(out.shape) != (batch, length, dim):
        fail(f"denoise returned shape {tuple(out.shape)} for x_t of shape {(batch, length, dim)}; expected the same")
    if out.dtype != x_t.dtype:
        fail(f"denoise returned {out.dtype} for a {x_t.dtype} input")
    if not bool(torch.isfinite(out).all()):
        fail(f"denoise returned non-finite values at timesteps {t.tolist()}")
    if not torch.equal(teacher.denoise(x_t, t), out):
        fail("denoise is not deterministic in eval mode (dropout or other randomness left on in eval mode?)")
    x0, hidden = teacher.denoise_with_features(x_t, t)
    if tuple(x0.shape) != tuple(out.shape) or not close(x0, out, rtol=1e-5, atol=1e-6):
        fail("denoise_with_features must return the same x0 prediction as denoise (in eval mode)")
    if hidden.dim() != 3 or tuple(hidden.shape[:2]) != (batch, length) or hidden.shape[2] < 1:
        fail(
            f"denoise_with_features must return hidden states [B, L, H] = [{batch}, {length}, H], got "
            f"{tuple(hidden.shape)}"
        )
    if not bool(torch.isfinite(hidden).all()):
        fail(f"denoise_with_features returned non-finite hidden states at timesteps {t.tolist()}")
    for i in range(batch):
        alone = teacher.denoise(x_t[i : i + 1], t[i : i + 1])
        if not close(alone[0], out[i]):
            fail(
                f"denoise mixes samples of a batch: example {i} alone gives a different prediction than in the "
                "batch (objectives and samplers need samples to be independent: no batch statistics in eval mode)"
            )


def check_denoise(teacher: Teacher, seq_len: int, profile: settings | None = None) -> None:
    """``denoise`` / ``denoise_with_features`` shapes, finiteness, agreement and batch independence."""
    T = teacher.num_timesteps
    device = like(teacher).device
    with mode(teacher, False):
        extremes = torch.tensor([0, T - 1], device=device)
        _check_denoise_once(teacher, noisy_input(teacher, 2, seq_len, 0, 1.0), extremes)

        @given(
            st.integers(1, 3).flatmap(lambda b: st.tuples(timesteps(T, b), st.integers(0, 2**31 - 1))),
            st.sampled_from([0.1, 1.0, 5.0]),
        )
        def drawn(draw: tuple[Tensor, int], scale: float) -> None:
            t, seed = draw
            _check_denoise_once(teacher, noisy_input(teacher, len(t), seq_len, seed, scale), t.to(device))

        _settings(profile)(drawn)()


def _distinct_rows(table: Tensor, ids: Tensor) -> Tensor:
    """True where the embedding of ``ids`` differs from every other row of ``table``."""
    rows = table[ids.reshape(-1)].double()
    dist = torch.cdist(rows, table.double())
    dist[torch.arange(rows.shape[0], device=rows.device), ids.reshape(-1)] = float("inf")
    return (dist.min(dim=1).values > 0).reshape(ids.shape)


@torch.no_grad()
def _check_embeddings_once(teacher: Teacher, ids: Tensor) -> None:
    batch, length = ids.shape
    table = teacher.embedding_weight
    emb = teacher.embed(ids)
    if tuple(emb.shape) != (batch, length, teacher.embed_dim):
        fail(f"embed returned shape {tuple(emb.shape)} for ids {tuple(ids.shape)}; expected [B, L, embed_dim]")
    if not torch.equal(emb, table[ids]):
        fail("embed(ids) must equal embedding_weight[ids] (samplers and rounding use the table directly)")
    logits = teacher.logits(emb)
    if tuple(logits.shape) != (batch, length, teacher.vocab_size):
        fail(
            f"logits returned shape {tuple(logits.shape)}; expected [B, L, vocab_size] = "
            f"[{batch}, {length}, {teacher.vocab_size}]"
        )
    if not bool(torch.isfinite(logits).all()):
        fail("logits returned non-finite values for embedded tokens")
    rounded = teacher.round(emb)
    if tuple(rounded.shape) != (batch, length) or rounded.dtype != torch.long:
        fail(f"round must return int64 ids [B, L], got {rounded.dtype} of shape {tuple(rounded.shape)}")
    distinct = _distinct_rows(table.detach(), ids)
    if not torch.equal(rounded[distinct], ids[distinct]):
        bad = ids[distinct][rounded[distinct] != ids[distinct]][:5].tolist()
        fail(f"round(embed(ids)) must give back ids whose embeddings are distinct; failed for ids {bad}")


def check_embeddings(teacher: Teacher, vocab_size: int, seq_len: int, profile: settings | None = None) -> None:
    """``embed`` reads the table, ``logits`` has the vocabulary's width, ``round`` inverts ``embed``."""
    device = like(teacher).device
    with mode(teacher, False):
        edges = torch.tensor([[0] * (seq_len - 1) + [vocab_size - 1]], device=device)
        _check_embeddings_once(teacher, edges)

        @given(st.integers(1, 3), st.integers(0, 2**31 - 1))
        def drawn(batch: int, seed: int) -> None:
            generator = torch.Generator().manual_seed(seed)
            ids = torch.randint(0, vocab_size, (batch, seq_len), generator=generator)
            _check_embeddings_once(teacher, ids.to(device))

        _settings(profile)(drawn)()

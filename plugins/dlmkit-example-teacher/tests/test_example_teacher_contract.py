"""The adaLN teacher passes dlmkit's teacher contract, works with every objective, and conditions on time."""

from __future__ import annotations

import pytest
import torch
from hypothesis import settings

from dlmkit.errors import UserError
from dlmkit.interfaces import Objective
from dlmkit.plugins import get_registry
from dlmkit.testing import TeacherContexts, check_objective, check_teacher
from dlmkit_example_teacher.build import build_adaln_teacher
from dlmkit_example_teacher.model import AdaLNBlock, AdaLNTeacher
from dlmkit_example_teacher.params import AdaLNParams

torch.set_num_threads(1)
SMALL = AdaLNParams(embed_dim=8, hidden_size=16, num_layers=2, num_heads=2, time_dim=8)


def small(seed: int = 0, **sizes: int) -> AdaLNTeacher:
    torch.manual_seed(seed)
    return build_adaln_teacher(SMALL, vocab_size=sizes.get("vocab_size", 40), seq_len=sizes.get("seq_len", 12))


def test_passes_the_teacher_contract() -> None:
    check_teacher(small(), vocab_size=40, seq_len=12, profile=settings(max_examples=15, deadline=None))


def test_is_registered_by_the_installed_plugin() -> None:
    entry = get_registry().get("teacher", "adaln_transformer")
    assert entry.provider == "dlmkit-example-teacher" and entry.params is AdaLNParams
    teacher = entry.factory(SMALL, vocab_size=40, seq_len=12)
    assert isinstance(teacher, AdaLNTeacher) and teacher.config.vocab_size == 40 and teacher.config.seq_len == 12


@pytest.mark.parametrize("name", sorted(get_registry().names("objective")))
def test_every_registered_objective_can_distill_it(name: str) -> None:
    entry = get_registry().get("objective", name)
    objective: Objective = entry.factory(entry.make_params())
    check_objective(objective, TeacherContexts(small(), batch=3))


def test_the_timestep_conditions_the_prediction_through_adaln() -> None:
    teacher = small().eval()
    x = torch.randn(1, 12, 8)
    with torch.no_grad():
        early, late = teacher.denoise(x, torch.tensor([0])), teacher.denoise(x, torch.tensor([1999]))
        for block in teacher.blocks:
            assert isinstance(block, AdaLNBlock)
            block.modulation.weight.zero_()
        teacher.final_modulation.weight.zero_()
        flat_early, flat_late = teacher.denoise(x, torch.tensor([0])), teacher.denoise(x, torch.tensor([1999]))
    assert not torch.allclose(early, late)
    torch.testing.assert_close(flat_early, flat_late)  # with the modulation off, time has no way in


def test_sizes_resolve_from_the_data_and_may_exceed_it() -> None:
    assert small().config.vocab_size == 40
    bigger = build_adaln_teacher(AdaLNParams(vocab_size=50, seq_len=16), vocab_size=40, seq_len=12)
    assert (bigger.vocab_size, bigger.seq_len) == (50, 16)
    with pytest.raises(UserError, match=r"\[teacher\] seq_len = 8 is smaller than the data's seq_len \(12\)"):
        build_adaln_teacher(AdaLNParams(seq_len=8), vocab_size=40, seq_len=12)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hidden_size": 30, "num_heads": 4}, "num_heads .4. must divide hidden_size .30."),
        ({"time_dim": 7}, "time_dim must be even"),
        ({"num_layers": 0}, "'num_layers' must be a positive integer"),
        ({"dropout": 1.0}, r"'dropout' must be a number in \[0, 1\)"),
        ({"num_timesteps": 1}, "at least 2"),
    ],
)
def test_params_reject_bad_values(changes: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AdaLNParams(**changes)

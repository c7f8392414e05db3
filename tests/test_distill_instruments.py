"""The distillation instruments: psi's advantage, the output scale and the optional hold on it."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmkit.objectives.generator_view import GeneratorView
from dlmkit.objectives.instruments import output_scale, psi_advantage, scale_excess

torch.set_num_threads(1)


def view(x: torch.Tensor, teacher: torch.Tensor, psi: torch.Tensor) -> GeneratorView:
    weights = torch.ones(*x.shape[:2], 1)
    return GeneratorView(
        t=torch.zeros(x.shape[0], dtype=torch.long), x_gen=x, weights=weights, teacher_pred=teacher, psi_pred=psi
    )


def test_psi_advantage_is_the_teachers_error_less_psis() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 6, 3, generator=g)
    teacher = x + 0.5 * torch.randn(4, 6, 3, generator=g)
    exact = psi_advantage(view(x, teacher, x))  # psi reproduces the student: all of the teacher's error is signal
    assert exact["psi_dsm"] == 0.0 and abs(float(exact["psi_advantage_rel"]) - 1.0) < 1e-6
    same = psi_advantage(view(x, teacher, teacher))  # psi no better than the teacher: no signal
    assert same["psi_advantage"] == 0.0
    worse = psi_advantage(view(x, teacher, x + 2.0))  # a psi that has diverged reads below zero
    assert worse["psi_advantage_rel"] < 0.0


def test_without_both_predictions_there_is_no_reading() -> None:
    x = torch.zeros(1, 2, 2)
    assert psi_advantage(GeneratorView(t=torch.zeros(1), x_gen=x, weights=torch.ones(1, 2, 1))) == {}


def test_output_scale_reads_outputs_against_the_table() -> None:
    table = torch.tensor([[3.0, 4.0], [0.0, 1.0], [1.0, 0.0]])  # norms 5, 1, 1: largest 5, mean 7/3
    on_table = table[[0, 1, 2, 0]].reshape(1, 4, 2)
    tokens = torch.ones(1, 4)
    reading = output_scale(on_table, tokens, table)
    assert reading["out_beyond"] == 0.0 and abs(float(reading["out_norm_max"]) - 1.0) < 1e-6
    assert abs(float(reading["out_norm"]) - (12.0 / 4) / (7.0 / 3)) < 1e-6
    doubled = output_scale(2 * on_table, tokens, table)
    assert doubled["out_beyond"] == 0.5 and abs(float(doubled["out_norm_max"]) - 2.0) < 1e-6
    condition_only = output_scale(2 * on_table, torch.tensor([[1.0, 1.0, 1.0, 0.0]]), table)  # last token not read
    assert abs(float(condition_only["out_beyond"]) - 1 / 3) < 1e-6


def outputs_at(scale: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A random table and outputs in random directions at ``scale`` times the table's largest norm."""
    g = torch.Generator().manual_seed(seed)
    table = torch.randn(7, 5, generator=g)
    direction = torch.nn.functional.normalize(torch.randn(2, 3, 5, generator=g), dim=-1)
    return table, direction * scale * table.norm(dim=-1).max()


@settings(max_examples=50, deadline=None)
@given(scale=st.floats(0.0, 0.999), seed=st.integers(0, 2**16))
def test_the_hold_is_zero_on_the_tables_scale(scale: float, seed: int) -> None:
    table, x = outputs_at(scale, seed)
    assert float(scale_excess(x, torch.ones(2, 3), table)) == 0.0


@settings(max_examples=50, deadline=None)
@given(scale=st.floats(1.05, 20.0), seed=st.integers(0, 2**16))
def test_the_hold_pulls_outputs_beyond_the_table_back(scale: float, seed: int) -> None:
    table, x = outputs_at(scale, seed)
    x.requires_grad_(True)
    excess = scale_excess(x, torch.ones(2, 3), table)
    assert float(excess.detach()) > 0.0
    (grad,) = torch.autograd.grad(excess, x)
    assert float((grad * x.detach()).sum()) > 0.0  # gradient descent shrinks the norms

"""The optional unlikelihood term against repeated adjacent tokens (a distill stage's ``repeat_penalty``)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmkit.engine.pipeline import run_recipe
from dlmkit.objectives.repeat_penalty import adjacent_repeat_probability
from dlmkit.recipe.load import load_recipe
from tests.tiny_run import FAST, TINY

V = 9
EXCLUDED = [0, 1, 2]  # pad, cls, sep


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(3, V - 1), min_size=2, max_size=7), min_size=1, max_size=4))
def test_on_certain_outputs_it_is_the_share_of_repeated_adjacent_pairs(rows: list[list[int]]) -> None:
    # One-hot logits decode with certainty, so the probability is the counted share, as validation counts it.
    width = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    tokens = torch.zeros(len(rows), width)
    for i, row in enumerate(rows):
        ids[i, : len(row)], tokens[i, : len(row)] = torch.tensor(row), 1.0
    logits = torch.nn.functional.one_hot(ids, V).float() * 1e4
    repeats = sum(a == b for row in rows for a, b in itertools.pairwise(row))
    pairs = sum(len(row) - 1 for row in rows)
    assert abs(float(adjacent_repeat_probability(logits, tokens, EXCLUDED)) - repeats / pairs) < 1e-6


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**16), st.floats(0.1, 20.0))
def test_it_is_a_probability_blind_to_non_target_positions_and_to_padding(seed: int, scale: float) -> None:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(3, 6, V, generator=g) * scale
    tokens = torch.tensor([[0, 0, 1, 1, 1, 1]] * 3, dtype=torch.float)
    value = adjacent_repeat_probability(logits, tokens, EXCLUDED)
    assert 0.0 <= float(value) <= 1.0
    moved = logits.clone()
    moved[:, :2] = torch.randn(3, 2, V, generator=g) * scale  # condition positions: in no target pair
    assert torch.equal(adjacent_repeat_probability(moved, tokens, EXCLUDED), value)
    padded = torch.full((3, 6, V), -1e4)
    padded[..., 0] = 1e4  # every position certain of [PAD]: a run of padding is no repeat
    assert float(adjacent_repeat_probability(padded, tokens, EXCLUDED)) == 0.0
    assert float(adjacent_repeat_probability(logits, torch.zeros(3, 6), EXCLUDED)) == 0.0


def test_its_gradient_pulls_a_repeated_pair_apart() -> None:
    logits = torch.zeros(1, 3, V)
    logits[0, :, 5] = 3.0  # three positions leaning to the same word
    logits.requires_grad_(True)
    tokens = torch.ones(1, 3)
    before = adjacent_repeat_probability(logits, tokens, EXCLUDED)
    (grad,) = torch.autograd.grad(before, logits)
    before = before.detach()
    after = adjacent_repeat_probability(logits.detach() - 0.5 * grad, tokens, EXCLUDED)
    assert float(after) < float(before)
    assert bool((grad[0, :, 5] > 0).all()), "descent lowers the shared word at every position"


def test_a_stage_logs_the_term_only_when_it_is_on(tmp_path: Path) -> None:
    run_recipe(
        load_recipe(TINY, [*FAST, "stage.stage1.repeat_penalty=10.0"]), output_dir=tmp_path / "on", progress=False
    )
    run_recipe(load_recipe(TINY, FAST), output_dir=tmp_path / "off", progress=False)

    def logged(run: str) -> list[float]:
        rows = [json.loads(line) for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]
        return [r["g_repeat_prob"] for r in rows if r["stage"] == "stage1" and "g_repeat_prob" in r]

    assert logged("on") and all(0.0 < v < 1.0 for v in logged("on"))
    assert logged("off") == []

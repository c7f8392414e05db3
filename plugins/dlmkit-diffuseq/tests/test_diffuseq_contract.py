"""A small DiffuSeq teacher passes dlmkit's reusable teacher contract, as every teacher plugin should."""

from __future__ import annotations

import attrs
import pytest
import torch
from hypothesis import settings

from dlmkit.testing import check_teacher
from dlmkit_diffuseq.params import DiffuSeqParams
from dlmkit_diffuseq.teacher import build_teacher


@pytest.mark.parametrize("dropout", [0.0, 0.1])
def test_a_small_diffuseq_teacher_passes_the_teacher_contract(small_params: DiffuSeqParams, dropout: float) -> None:
    torch.manual_seed(0)
    params = attrs.evolve(small_params, vocab_size=None, dropout=dropout, attention_dropout=dropout)
    teacher = build_teacher(params, vocab_size=40, seq_len=10)
    check_teacher(teacher, vocab_size=40, seq_len=10, profile=settings(max_examples=10, deadline=None))

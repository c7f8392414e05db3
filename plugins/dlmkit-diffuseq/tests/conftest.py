"""Shared settings for the DiffuSeq plugin tests: one torch thread, tiny model sizes."""

from __future__ import annotations

import os

import pytest
import torch

from dlmkit_diffuseq.params import DiffuSeqParams

torch.set_num_threads(1)
os.environ.setdefault("DLMKIT_STRICT_PLUGINS", "1")


@pytest.fixture
def small_params() -> DiffuSeqParams:
    """A DiffuSeq network of a few thousand parameters, with the projections present (8 != 16)."""
    return DiffuSeqParams(
        embed_dim=8,
        hidden_t_dim=6,
        seq_len=10,
        hidden_size=16,
        num_layers=2,
        num_heads=4,
        intermediate_size=24,
        max_position=32,
        vocab_size=40,
        num_timesteps=2000,
    )

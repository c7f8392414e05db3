"""Shared test settings: one torch thread (CI has 2 cores), hypothesis profiles, strict plugins."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import torch
from hypothesis import HealthCheck, settings

from dlmkit.testing.device_randomness import StrictRandomness

torch.set_num_threads(1)
os.environ.setdefault("DLMKIT_STRICT_PLUGINS", "1")

settings.register_profile("dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


GUARDED_MODULES = ("test_distill", "test_sampler", "test_pipeline", "test_proof_modes", "test_discriminator")
"""Tests whose every seeded draw must be device-correct (see tests/test_device_randomness.py)."""


@pytest.fixture(autouse=True)
def strict_randomness(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail distillation and sampler tests on a generator aimed at a device of another type."""
    if not request.module.__name__.rsplit(".", 1)[-1].startswith(GUARDED_MODULES):
        yield
        return
    with StrictRandomness():
        yield

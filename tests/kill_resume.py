"""Killing a run mid-stage from an observer plugin, as a SIGKILL would, for the resume tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlmkit.engine.pipeline import run_recipe
from dlmkit.hookspecs import hookimpl
from dlmkit.plugins import get_plugins
from dlmkit.recipe.schema import Recipe


class KillAt:
    """An observer plugin that kills the run at ``step`` of ``stage`` (on a log row holding ``key``, if given)."""

    def __init__(self, stage: str, step: int, key: str | None = None):
        self.stage, self.step, self.key = stage, step, key

    @hookimpl
    def on_log(self, stage: str, step: int, metrics: dict[str, float]) -> None:
        if stage == self.stage and step == self.step and (self.key is None or self.key in metrics):
            raise KeyboardInterrupt(f"killed at {stage} step {step}")


def run_killed(recipe: Recipe, run_dir: Path, stage: str, step: int, key: str | None = None) -> None:
    """Run ``recipe`` into ``run_dir`` until the kill at ``step`` of ``stage``; fails if the run ends first."""
    killer = KillAt(stage, step, key)
    plugins = get_plugins()
    plugins.manager.register(killer, name="killer")
    try:
        with pytest.raises(KeyboardInterrupt):
            run_recipe(recipe, output_dir=run_dir, progress=False)
    finally:
        plugins.manager.unregister(killer)

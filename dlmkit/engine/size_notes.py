"""Counts in a recipe that ask for more sources than a split holds: said once at the start, then capped."""

from __future__ import annotations

from dlmkit.interfaces import Dataset
from dlmkit.recipe.schema import Recipe


def capped_counts(recipe: Recipe, dataset: Dataset) -> list[str]:
    """One note per count that exceeds what it counts (a split's sources), naming the key and what is used."""
    notes: list[str] = []
    sizes: dict[str, int] = {}

    def size(split: str) -> int:
        if split not in sizes:
            sizes[split] = len(dataset.split(split))
        return sizes[split]

    spec = recipe.eval
    if spec is not None and dataset.has_split(spec.split):
        scored = size(spec.split) if spec.num_samples is None else min(spec.num_samples, size(spec.split))
        if spec.num_samples is not None and spec.num_samples > scored:
            notes.append(f"[eval] num_samples = {spec.num_samples:,}: the {spec.split} split has {scored:,}; all used")
        if spec.timing_batch > scored:
            notes.append(f"[eval] timing_batch = {spec.timing_batch:,}: {scored:,} sources are scored; all timed")
    for stage in recipe.stages:
        wanted = getattr(stage.params, "eval_samples", None)
        if not isinstance(wanted, int) or not getattr(stage.params, "eval_every", 0):
            continue
        split = "valid" if dataset.has_split("valid") else "train"
        if wanted > size(split):
            notes.append(
                f'[[stage]] "{stage.name}" eval_samples = {wanted:,}: the {split} split has {size(split):,}; all used'
            )
    return notes

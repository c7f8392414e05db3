"""The public toolkit for writing a sampler: the condition handling every built-in sampler shares.

Import from here (not from the modules behind it) in a plugin.  ``AnchoredCondition`` embeds a packed
batch's condition once, puts it back over a state (``anchor``: the condition stays clean at every step,
as DiffuSeq samples), gives the timestep tensor of a step and rounds the final state to token ids that
echo the condition (``output_ids``).
"""

from __future__ import annotations

from dlmkit.samplers.condition import AnchoredCondition
from dlmkit.samplers.noise import SeededNoise

__all__ = ["AnchoredCondition", "SeededNoise"]

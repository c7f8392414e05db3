"""DiffuSeq's rule for which timesteps of a chain round ``x0`` to the nearest embedding (``clamp_step``).

Shared by the ancestral and DDIM samplers so both read the same two keys the same way.  With
``clamp_first`` (DiffuSeq's sampler passes it) rounding happens where ``t >= clamp_step``, the noisy
steps; without, where ``t <= clamp_step``.  The default ``clamp_step = 0`` rounds at every step.
"""

from __future__ import annotations


def rounds_at(t: int, clamp_step: int, clamp_first: bool, rounding: bool = True) -> bool:
    """Whether the chain rounds its ``x0`` prediction at timestep ``t``."""
    if not rounding:
        return False
    return t >= clamp_step if clamp_first else t <= clamp_step

"""Built-in timestep samplers of teacher training (the ``timestep_sampler`` of a ``train_teacher`` stage)."""

from __future__ import annotations

from dlmkit.hookspecs import Register, hookimpl
from dlmkit.timestep_samplers.lossaware import LossAwareParams, LossAwareTimesteps, build_lossaware
from dlmkit.timestep_samplers.uniform import UniformTimesteps, build_uniform

__all__ = ["LossAwareParams", "LossAwareTimesteps", "UniformTimesteps", "register_timestep_samplers"]


@hookimpl
def register_timestep_samplers(register: Register) -> None:
    register("uniform", build_uniform)
    register("lossaware", build_lossaware, params=LossAwareParams)

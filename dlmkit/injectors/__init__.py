"""Built-in conditioning injectors: how the condition enters noised and generated sequences."""

from __future__ import annotations

from dlmkit.hookspecs import Register, hookimpl
from dlmkit.injectors.partial_noising import PartialNoising, PartialNoisingParams, build_partial_noising
from dlmkit.injectors.replace_condition import ReplaceCondition, ReplaceConditionParams, build_replace_condition

__all__ = [
    "PartialNoising",
    "PartialNoisingParams",
    "ReplaceCondition",
    "ReplaceConditionParams",
    "register_injectors",
]


@hookimpl
def register_injectors(register: Register) -> None:
    register(
        "replace_condition",
        build_replace_condition,
        params=ReplaceConditionParams,
        summary="DLM-One: generated sequences get the true condition embedding; noising keeps it clean",
    )
    register(
        "partial_noising",
        build_partial_noising,
        params=PartialNoisingParams,
        summary="DiffuSeq partial noising only; generated sequences are left as the generator wrote them",
    )

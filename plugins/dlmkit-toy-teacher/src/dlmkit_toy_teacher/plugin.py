"""Registers the toy teacher (tests and the tiny CPU recipe use it) through an entry point, like any plugin."""

from __future__ import annotations

from dlmkit.hookspecs import Register, hookimpl


@hookimpl
def register_teachers(register: Register) -> None:
    from dlmkit.testing.toy_teacher import ToyTeacherParams, build_toy_teacher

    register(
        "toy", build_toy_teacher, params=ToyTeacherParams, summary="Tiny transformer denoiser for tests and smoke runs"
    )

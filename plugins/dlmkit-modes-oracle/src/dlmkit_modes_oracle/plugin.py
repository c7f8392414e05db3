"""Registers the ``modes_oracle`` teacher and its ``dlmkit modes-oracle`` command through an entry point."""

from __future__ import annotations

import click

from dlmkit.hookspecs import Register, hookimpl


@hookimpl
def register_teachers(register: Register) -> None:
    from dlmkit_modes_oracle.oracle import ModesOracleParams, build_modes_oracle

    register(
        "modes_oracle",
        build_modes_oracle,
        params=ModesOracleParams,
        summary="Exact teacher of the modes task: the posterior mean over its K answers",
    )


@hookimpl
def register_commands(cli: click.Group) -> None:
    from dlmkit_modes_oracle.command import modes_oracle_command

    cli.add_command(modes_oracle_command)

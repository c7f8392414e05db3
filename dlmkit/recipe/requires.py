"""A recipe's ``requires``: the packages (plugins) it needs, checked against what is installed."""

from __future__ import annotations

import importlib.metadata as metadata

from dlmkit.errors import Problem


def requirement_problems(requires: list[str]) -> list[Problem]:
    """A problem for each ``requires`` entry that is malformed, not installed, or installed at another version."""
    problems: list[Problem] = []
    for requirement in requires:
        try:
            from packaging.requirements import Requirement

            req = Requirement(requirement)
        except Exception as exc:
            problems.append(Problem("[top level] 'requires'", f"{requirement!r} is not a valid requirement: {exc}"))
            continue
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            problems.append(
                Problem(
                    "[top level] 'requires'",
                    f"needs {requirement}, which is not installed",
                    f"pip install '{requirement}'",
                )
            )
            continue
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            problems.append(
                Problem("[top level] 'requires'", f"needs {requirement}, but {req.name} {version} is installed")
            )
    return problems

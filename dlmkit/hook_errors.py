"""Plain-language explanations of hook implementations that do not match dlmkit's hooks.

pluggy reports a misspelt hook as ``unknown hook 'x' in plugin <module ...>`` and wrong arguments
as a set of names; a plugin author needs to know which hooks exist and what each one takes.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from typing import Any

import pluggy

import dlmkit.hookspecs as hookspecs
from dlmkit.errors import PluginLoadError

_SPEC_MARK = "dlmkit_spec"
_IMPL_MARK = "dlmkit_impl"


def hook_signatures() -> dict[str, tuple[str, ...]]:
    """Every dlmkit hook and the argument names it passes, in declaration order."""
    return {
        name: tuple(inspect.signature(function).parameters)
        for name, function in vars(hookspecs).items()
        if callable(function) and hasattr(function, _SPEC_MARK)
    }


def _implementations(plugin: object) -> list[tuple[str, Callable[..., Any]]]:
    """``(hook name, function)`` for every ``@hookimpl`` on ``plugin``."""
    found = []
    for attr in dir(plugin):
        try:
            value = getattr(plugin, attr)
        except Exception:
            continue
        opts = getattr(value, _IMPL_MARK, None)
        if callable(value) and isinstance(opts, dict):
            found.append((opts.get("specname") or attr, value))
    return found


def _arguments(function: Callable[..., Any]) -> tuple[str, ...]:
    params = inspect.signature(function).parameters.values()
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def describe_hook_problems(plugin: object, plugin_name: str) -> list[str]:
    """One sentence per hook implementation of ``plugin`` that dlmkit cannot call."""
    hooks = hook_signatures()
    problems = []
    for hook, function in _implementations(plugin):
        if hook not in hooks:
            close = difflib.get_close_matches(hook, list(hooks), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(
                f"plugin '{plugin_name}' implements '{hook}', which is not a dlmkit hook; {hint}"
                f"dlmkit's hooks are: {', '.join(hooks)} (see dlmkit/hookspecs.py)"
            )
            continue
        try:
            declared = _arguments(function)
        except (TypeError, ValueError):
            continue
        unknown = [a for a in declared if a not in hooks[hook]]
        if unknown:
            problems.append(
                f"plugin '{plugin_name}': hook '{hook}' passes the arguments ({', '.join(hooks[hook])}), but its "
                f"implementation declares ({', '.join(declared)}); {', '.join(repr(a) for a in unknown)} "
                f"{'is' if len(unknown) == 1 else 'are'} not among them.  Rename the parameters to the hook's "
                "argument names (an implementation may take any subset of them)"
            )
    return problems


def explain_hook_error(plugin: object, plugin_name: str, exc: BaseException) -> BaseException:
    """A ``PluginLoadError`` that explains a pluggy validation error; other errors are returned unchanged."""
    if not isinstance(exc, pluggy.PluginValidationError):
        return exc
    problems = describe_hook_problems(plugin, plugin_name)
    if not problems:
        return exc
    explained = PluginLoadError("; ".join(problems))
    explained.__cause__ = exc
    return explained

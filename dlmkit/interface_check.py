"""Checking a built component against the interface of its kind, and saying exactly what is missing.

A plugin whose factory returns the wrong thing would otherwise fail deep inside a training step
with an ``AttributeError`` about some method name.  The registry wraps every factory with
``interface_checked`` so the mistake is reported when the component is built, naming the
component, its plugin, the interface and the missing members.  ``isinstance`` on a runtime
protocol only checks that members exist (not their signatures); the contract checks in
``dlmkit.testing`` go further.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any, Protocol

from dlmkit.errors import PluginContractError


def protocol_members(protocol: type) -> list[str]:
    """The public attributes and methods a runtime-checkable protocol (and its protocol bases) declares."""
    names: set[str] = set()
    for base in protocol.__mro__:
        if base in (object, Protocol) or not getattr(base, "_is_protocol", False):
            continue
        names.update(n for n in vars(base) if not n.startswith("_"))
        names.update(n for n in getattr(base, "__annotations__", {}) if not n.startswith("_"))
    return sorted(names)


def _has_member(obj: Any, name: str) -> bool:
    """Looked up without running properties (a data set's lazy tokenizer stays unbuilt), then dynamically
    (a torch module keeps its submodules and parameters behind ``__getattr__``)."""
    try:
        inspect.getattr_static(obj, name)
    except AttributeError:
        return hasattr(obj, name)
    return True


def missing_members(obj: Any, protocol: type) -> list[str]:
    """Members of ``protocol`` that ``obj`` lacks (empty when ``isinstance(obj, protocol)`` holds)."""
    return [name for name in protocol_members(protocol) if not _has_member(obj, name)]


def interface_for(kind: str) -> type:
    """The protocol class for a component kind."""
    from dlmkit.registry import KINDS

    module = importlib.import_module("dlmkit.interfaces")  # lazily: the interfaces need torch
    protocol: type = getattr(module, KINDS[kind].interface)
    return protocol


def check_component(kind: str, name: str, where: str, obj: Any) -> None:
    """Raise ``PluginContractError`` unless ``obj`` satisfies the interface of ``kind``."""
    protocol = interface_for(kind)
    missing = missing_members(obj, protocol)
    problems = []
    if missing:
        problems.append(f"it lacks {', '.join(missing)}")
    if kind == "teacher":
        import torch

        if not isinstance(obj, torch.nn.Module):
            problems.append("it is not a torch.nn.Module (teachers are trained, copied and saved as modules)")
    if not problems:
        return
    raise PluginContractError(
        f"the factory of {kind} '{name}' ({where}) returned a {type(obj).__module__}.{type(obj).__qualname__}, "
        f"which does not satisfy dlmkit.interfaces.{protocol.__name__}: {'; '.join(problems)}.  Add the missing "
        f"members, and run the contract checks in dlmkit.testing in the plugin's tests (docs/writing-plugins.md)"
    )


def interface_checked(kind: str, name: str, where: str, factory: Callable[..., Any]) -> Callable[..., Any]:
    """``factory`` wrapped so that what it builds is checked against the interface of ``kind``."""

    @functools.wraps(factory)
    def build(*args: Any, **kwargs: Any) -> Any:
        obj = factory(*args, **kwargs)
        if kind == "teacher":
            # the registered name is what a saved teacher is rebuilt by, whatever the class calls itself
            with contextlib.suppress(AttributeError):
                obj.component = name
        check_component(kind, name, where, obj)
        return obj

    return build

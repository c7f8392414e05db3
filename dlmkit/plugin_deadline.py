"""Call a plugin's code with a deadline, so a plugin that hangs (in its import or a lifecycle hook) cannot hang
dlmkit: the call runs in a daemon thread, and past the deadline dlmkit goes on without it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

#: Seconds a plugin's import or lifecycle hook may take; ``DLMKIT_PLUGIN_TIMEOUT`` changes it.
DEFAULT_SECONDS = 60.0


class PluginTimeout(Exception):
    """A plugin's call did not return within the deadline (it may still be running, in its own thread)."""


def deadline_seconds() -> float:
    raw = os.environ.get("DLMKIT_PLUGIN_TIMEOUT", "")
    try:
        value = float(raw) if raw else DEFAULT_SECONDS
    except ValueError:
        value = DEFAULT_SECONDS
    return value if value > 0 else DEFAULT_SECONDS


def call_with_deadline(function: Callable[..., Any], what: str, **kwargs: Any) -> Any:
    """``function(**kwargs)``, or ``PluginTimeout`` naming ``what`` when it has not returned in time.

    Whatever it raises (``SystemExit`` and ``KeyboardInterrupt`` included) is raised here, in the caller's thread,
    marked by ``raised_by_plugin``; a real Ctrl-C while waiting is not marked.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = function(**kwargs)
        except BaseException as exc:  # handed to the caller, who decides what the plugin's error means
            exc.from_plugin = True  # type: ignore[attr-defined]  # not a Ctrl-C that reached the waiting caller
            box["error"] = exc

    seconds = deadline_seconds()
    worker = threading.Thread(target=run, name=f"dlmkit plugin: {what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise PluginTimeout(f"{what} did not return within {seconds:g} s (DLMKIT_PLUGIN_TIMEOUT)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def raised_by_plugin(exc: BaseException) -> bool:
    """Whether ``exc`` came out of the plugin's call (not a signal that reached dlmkit while it waited)."""
    return bool(getattr(exc, "from_plugin", False)) or isinstance(exc, PluginTimeout)

"""Which installed plugin an exception came out of, read off its traceback.

The registry knows who provides each component, but a failure can surface anywhere a component's
code runs (a teacher's forward, a metric, a checkpoint loader).  The innermost traceback frame that
belongs to a plugin's package names the plugin, so its failure is reported as its own (exit 2), and
a ``SystemExit`` it raises cannot end a run that did not finish as if it had.
"""

from __future__ import annotations

from types import TracebackType

import attrs


@attrs.frozen
class Blame:
    plugin: str
    distribution: str
    version: str
    where: str

    def describe(self) -> str:
        return f"plugin '{self.plugin}' ({self.distribution} {self.version}), in {self.where}"


def _packages() -> dict[str, tuple[str, str, str]]:
    """Top-level package of each loaded third-party plugin -> (name, distribution, version)."""
    from dlmkit.plugins import get_plugins

    plugins = get_plugins()
    out = {}
    for name, plugin in plugins.manager.list_name_plugin():
        distribution, version, builtin = plugins.provenance.get(name, (name, "", False))
        module = getattr(plugin, "__name__", None) or type(plugin).__module__
        if builtin or not module or module.split(".")[0] == "dlmkit":
            continue
        out[module.split(".")[0]] = (name, distribution, version)
    return out


def blame(exc: BaseException) -> Blame | None:
    """The plugin whose code is innermost in ``exc``'s traceback, or ``None`` when no plugin's is."""
    packages = _packages()
    if not packages:
        return None
    found: Blame | None = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        top = module.split(".")[0]
        if top in packages:
            name, distribution, version = packages[top]
            found = Blame(name, distribution, version, f"{module}.{tb.tb_frame.f_code.co_name}")
        tb = tb.tb_next
    return found

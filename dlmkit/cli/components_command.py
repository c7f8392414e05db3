"""``dlmkit components``: every registered component with its provider and parameters."""

from __future__ import annotations

import json
import typing
from typing import Any

import attrs
import click
from rich.console import Console
from rich.table import Table

from dlmkit.plugins import get_registry
from dlmkit.registry import KINDS, Entry
from dlmkit.structuring import describe_type, unstructure


def parameters(entry: Entry) -> list[dict[str, Any]]:
    """Name, type and default of each parameter of a component."""
    if entry.params is None:
        return []
    hints = typing.get_type_hints(entry.params)
    out = []
    for field in attrs.fields(entry.params):
        if field.default is attrs.NOTHING:
            default: Any = "(required)"
        elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type,unused-ignore]
            default = unstructure(field.default.factory())
        else:
            default = unstructure(field.default)
        out.append({"name": field.name, "type": describe_type(hints.get(field.name, Any)), "default": default})
    return out


@click.command("components")
@click.argument("kind", required=False, type=click.Choice(list(KINDS)))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def components_command(kind: str | None, as_json: bool) -> None:
    """List registered components (of KIND): name, provider, summary and parameters with defaults."""
    registry = get_registry()
    entries = [e for e in registry if kind is None or e.kind == kind]
    if as_json:
        data = [
            {
                "kind": e.kind,
                "name": e.name,
                "provider": e.provider,
                "version": e.version,
                "summary": e.summary,
                "parameters": parameters(e),
            }
            for e in entries
        ]
        click.echo(json.dumps(data, indent=2, default=str))
        return
    console = Console()
    for k in [kind] if kind else list(KINDS):
        table = Table(title=f"{k} components")
        for column in ("name", "provider", "summary", "parameters"):
            table.add_column(column)
        for e in (e for e in entries if e.kind == k):
            params = ", ".join(f"{p['name']}: {p['type']} = {p['default']!r}" for p in parameters(e))
            table.add_row(e.name, f"{e.provider} {e.version}", e.summary, params)
        console.print(table)

"""``dlmkit plugins``: what is loaded, from which distribution, and what failed."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from dlmkit.plugins import get_plugins, replaced_components


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--details", is_flag=True, help="Show the traceback of plugins that failed to load.")
def plugins_command(as_json: bool, details: bool) -> None:
    """List loaded plugins (distribution, version, hooks) and plugins that failed to load."""
    plugins = get_plugins()
    _ = plugins.registry  # registration failures surface while the registry is built
    infos = plugins.infos()
    if as_json:
        data = {
            "plugins": [
                {
                    "name": p.name,
                    "distribution": p.distribution,
                    "version": p.version,
                    "hooks": list(p.hooks),
                    "builtin": p.builtin,
                }
                for p in infos
            ],
            "failed": [
                {"name": f.name, "distribution": f.distribution, "version": f.version, "error": f.error}
                for f in plugins.failures
            ],
            "replaced": [
                {"kind": e.kind, "name": e.name, "provider": f"{e.provider} {e.version}", "replaces": e.overrides}
                for e in replaced_components()
            ],
        }
        click.echo(json.dumps(data, indent=2))
        return
    console = Console()
    table = Table(title="dlmkit plugins")
    for column in ("plugin", "distribution", "version", "hooks"):
        table.add_column(column)
    for p in infos:
        table.add_row(p.name, p.distribution + (" (built-in)" if p.builtin else ""), p.version, ", ".join(p.hooks))
    console.print(table)
    for e in replaced_components():
        console.print(f"replaced: {e.kind} '{e.name}' by {e.provider} {e.version} (was {e.overrides})", highlight=False)
    for f in plugins.failures:
        console.print(f"[red]failed[/red] {f.name} ({f.distribution} {f.version}): {f.error}", highlight=False)
        if details:
            console.print(f.details, markup=False, highlight=False)

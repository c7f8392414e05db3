"""The ``dlmkit`` Click group: built-in commands, plugin commands, and user-error handling."""

from __future__ import annotations

import errno
import os
import traceback
from typing import Any

import click

from dlmkit.errors import DlmkitError, RunInterrupted, UserError
from dlmkit.plugin_blame import blame
from dlmkit.storage.atomic import library_refused_write
from dlmkit.version import __version__

_RESUMABLE = (
    "; free some space and run the command again (a run continues with --resume: its files and checkpoints are "
    "written whole or not at all)"
)


def _disk_full(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it was raised from, is the disk refusing a write (full, or over quota)."""
    seen: BaseException | None = exc
    chain: set[int] = set()
    while seen is not None and id(seen) not in chain:
        chain.add(id(seen))
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if library_refused_write(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class DlmkitGroup(click.Group):
    """Adds plugin commands lazily and turns ``UserError`` into a clean message with exit code 2."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        from dlmkit.plugins import get_plugins

        scratch = click.Group()
        get_plugins().notify("register_commands", cli=scratch)
        return {name: cmd for name, cmd in scratch.commands.items() if name not in self.commands}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugin_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        return self._plugin_commands(ctx).get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except RunInterrupted as exc:
            click.echo(str(exc), err=True)
            ctx.exit(exc.exit_code)
        except DlmkitError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (SystemExit, KeyboardInterrupt) as exc:
            culprit = blame(exc)
            if culprit is None:
                raise  # dlmkit's own exit, or a Ctrl-C
            click.echo(
                f"error: {culprit.describe()} raised {type(exc).__name__}({exc}) and would have ended the command "
                "as if it had finished; the command did not finish (report it to the plugin's authors)",
                err=True,
            )
            ctx.exit(2)
        except OSError as exc:  # the machine refused: disk full, read-only or missing folder, permissions
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"error: {exc.strerror or exc}{where}{_RESUMABLE if _disk_full(exc) else ''}", err=True)
            ctx.exit(2)
        except Exception as exc:
            if _disk_full(exc):  # a library's own wrapping of a refused write (rich, matplotlib, a plugin's logger)
                click.echo(f"error: no space left on device ({type(exc).__name__}: {exc}){_RESUMABLE}", err=True)
                ctx.exit(2)
            culprit = blame(exc)
            if culprit is not None:
                click.echo(traceback.format_exc(), err=True)
                click.echo(
                    f"error: {culprit.describe()} raised {type(exc).__name__}: {exc}; the traceback above is that "
                    "plugin's (report it to its authors, or uninstall it)",
                    err=True,
                )
                ctx.exit(2)
            click.echo(traceback.format_exc(), err=True)
            click.echo(
                "internal error: the traceback above is a bug in dlmkit or in one of its plugins "
                "(`dlmkit plugins` lists them); please report it with the traceback and the command",
                err=True,
            )
            ctx.exit(1)


def _set_env_flag(name: str, on: bool) -> None:
    if on:
        os.environ[name] = "1"


@click.group(cls=DlmkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dlmkit")
@click.option(
    "--strict-plugins",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=lambda ctx, param, value: _set_env_flag("DLMKIT_STRICT_PLUGINS", value),
    help="Fail when any plugin fails to load (also DLMKIT_STRICT_PLUGINS=1).",
)
@click.option(
    "--no-plugins",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=lambda ctx, param, value: _set_env_flag("DLMKIT_DISABLE_PLUGIN_AUTOLOAD", value),
    help="Load only the built-in components (also DLMKIT_DISABLE_PLUGIN_AUTOLOAD=1).",
)
def cli() -> None:
    """dlmkit: distill diffusion language models into one-step text generators (DLM-One).

    Recipes are TOML files; `dlmkit run RECIPE` trains every stage in it.
    """

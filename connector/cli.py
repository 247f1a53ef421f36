"""The ``featmesh`` command line.

Subcommands live in ``connector/commands/`` and are imported only when called, so
``featmesh --help`` stays fast and an optional dependency of one command never
breaks another. Exit codes: 0 ok, 1 findings at or above ``--fail-on``, 2 usage or
input error, 3 the run finished but a source or a catalog write failed.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from typing import Any

import click

from featmesh.connector import __version__, progress, redact
from featmesh.connector.collector import collector_paused
from featmesh.connector.errors import EXIT_INPUT, FeatmeshError, OutOfMemory, SourcesFailed

COMMANDS = {
    "init": ("featmesh.connector.commands.init:init", "Write a commented starter featmesh.yaml."),
    "runs": ("featmesh.connector.commands.runs:runs", "List recent runs with their status and scores."),
    "scan": ("featmesh.connector.commands.scan:scan", "Scan feature stores and publish them to a catalog."),
    "catalog": ("featmesh.connector.commands.catalog:catalog", "Read what a catalog holds."),
    "typedefs": (
        "featmesh.connector.commands.typedefs:typedefs",
        "Export, validate and push the catalog types.",
    ),
    "profile": ("featmesh.connector.commands.profile:profile", "Profile a dataset: quality, PII, freshness."),
    "check": ("featmesh.connector.commands.check:check", "Check feature sets against policy packs."),
    "policies": ("featmesh.connector.commands.policies:policies", "Policy packs: schema, list, explain."),
    "report": ("featmesh.connector.commands.report:report", "The governance report: HTML, Markdown or JSON."),
    "contract": (
        "featmesh.connector.commands.contract:contract",
        "Data contracts (ODCS v3): breaking changes and their ML impact.",
    ),
    "impact": (
        "featmesh.connector.commands.impact:impact",
        "What is downstream of a data product, feature set or feature.",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target[0].split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """A mistyped command is a usage error that names the closest one."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            import difflib

            close = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else f" Commands: {', '.join(sorted(COMMANDS))}."
            ctx.fail(f"No such command '{name}'.{hint}")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="featmesh")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Nothing on stderr but fatal errors and the last line of a failed run (no progress, "
    "no warnings, no per-file error lines).",
)
def cli(verbose: int, quiet: bool) -> None:
    """featmesh: governance for ML feature stores in a data mesh."""
    click.get_current_context().with_resource(redact.scrubbed_streams())
    progress.configure(enabled=not quiet, quiet=quiet)
    level = logging.WARNING - 10 * min(verbose, 2)
    if quiet and not verbose:
        level = logging.ERROR
    env_level = os.environ.get("FEATMESH_LOG_LEVEL")
    if env_level and env_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise click.UsageError(
            f"FEATMESH_LOG_LEVEL={env_level!r}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL"
        )
    handler = progress.LogHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=env_level.upper() if env_level else level, handlers=[handler])


def main(argv: list[str] | None = None) -> Any:
    """Entry point: runs the CLI, turning featmesh errors into a message and an exit code."""
    # a command is one bounded run: the few cycles it leaves wait for the process to end
    with collector_paused(), redact.scrubbed_streams():
        try:
            return cli.main(args=argv, prog_name="featmesh", standalone_mode=True)
        except FeatmeshError as err:  # raised outside a command's own handling
            click.echo(f"featmesh: error: {err}", err=True)
            sys.exit(err.exit_code)
        except MemoryError:
            pass  # said below, once the exception and the frames it holds are let go
        fail(OutOfMemory(None))


def fail(err: FeatmeshError) -> None:
    """Print a featmesh error the way every command does and exit with its code."""
    click.echo(f"featmesh: error: {err}", err=True)
    sys.exit(err.exit_code)


class Handled(click.Command):
    """A command whose FeatmeshErrors become a one-line message and their exit code
    (with ``--json``, a run whose every source failed still prints its summary)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SourcesFailed as err:
            if ctx.params.get("as_json"):
                click.echo(json.dumps(err.summary(), indent=2))
            fail(err)
        except FeatmeshError as err:
            fail(err)
        except RecursionError:
            fail(FeatmeshError("input is nested too deeply to process"))
        except MemoryError:
            pass  # said below, once the exception and the run's data its frames hold are let go
        fail(OutOfMemory(ctx.info_name))


__all__ = ["EXIT_INPUT", "Handled", "cli", "fail", "main"]

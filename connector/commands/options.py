"""Command-line options several commands share, declared once."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from featmesh.connector.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])

CATALOG_HELP = "local[:PATH] (default .featmesh/catalog.db), atlas+https://HOST[:PORT], purview://ACCOUNT or purview+https://HOST[:PORT]."


def catalog_option(help: str = CATALOG_HELP, name: str = "catalog_uri") -> Callable[[F], F]:
    return click.option("--catalog", name, metavar="URI", help=help)


TIMEOUT_HELP = (
    "Seconds the run may spend waiting to retry catalog calls (timeouts, HTTP 429 and 5xx) "
    "in all (catalog.timeout; default 300). Past it the call fails, saying what it waited for."
)


def timeout_option(command: F) -> F:
    """``--timeout SECONDS``: the total deadline of a run's catalog retries."""
    return click.option(
        "--timeout",
        "timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        metavar="SECONDS",
        help=TIMEOUT_HELP,
    )(command)


def timeout_settings(timeout: float | None, settings: Mapping[str, Any] | None = None) -> dict[str, float]:
    """The ``timeout`` option to open a catalog with: ``--timeout``, else the config's
    ``catalog.timeout``, else none (the catalog's default deadline)."""
    if timeout is None and settings and settings.get("timeout") is not None:
        timeout = float(settings["timeout"])
    return {"timeout": timeout} if timeout is not None else {}


def profile_options(command: F) -> F:
    """``--profile``, ``--sample-rows`` and ``--profile-remote``."""
    for option in reversed(
        (
            click.option(
                "--profile", is_flag=True, help="Profile each feature set's source data with pyarrow."
            ),
            click.option(
                "--sample-rows", type=click.IntRange(1), default=None, help="Profile about N rows per source."
            ),
            click.option(
                "--profile-remote",
                is_flag=True,
                help="Also profile sources in object stores (abfss://, s3://).",
            ),
            click.option(
                "--profile-engine",
                type=click.Choice(["local", "spark", "databricks-sql"]),
                default=None,
                help="Where profiles are computed (profiling.engine; default local).",
            ),
        )
    ):
        command = option(command)
    return command


STORE_NAME = re.compile(r"^[^/@#%\s]+$")
"""What a store name may be: the pattern of ``store:`` in featmesh.yaml's schema (no
``/ @ # %`` or spaces, which separate the parts of a qualifiedName)."""


def _store_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not STORE_NAME.match(value):
        raise click.BadParameter(
            f"{value!r} is not a store name: no '/', '@', '#', '%' or spaces (featmesh.yaml's store: "
            "takes the same names)",
            ctx=ctx,
            param=param,
        )
    return value


def store_name_option(command: F) -> F:
    """``--store-name NAME``: the store of the one SOURCE given, as ``store:`` names it in
    featmesh.yaml."""
    return click.option(
        "--store-name",
        metavar="NAME",
        default=None,
        callback=_store_name,
        help="Name the store of the one SOURCE given (instead of its folder or project name); "
        "as a source's store: in featmesh.yaml.",
    )(command)


def store_name_specs(sources: tuple[str, ...], store_name: str | None) -> dict[str, str] | None:
    """The source options ``--store-name`` gives; a usage error unless exactly one SOURCE."""
    if store_name is None:
        return None
    if len(sources) != 1:
        raise UsageError("--store-name names the store of one SOURCE: give exactly one")
    return {"store": store_name}

"""``featmesh impact TARGET``: who reads a data product, feature set or feature.

TARGET is a qualifiedName (``featmesh://...``, a feature's ``...#feature``, a model's
``.../consumer/model/NAME@V``) or a source URI or table name as feature sets read it. The
answer is the downstream closure in the catalog: derived feature sets, the features
affected, the models and serving endpoints that read them, with their owners and domains.
"""

from __future__ import annotations

import json

import click

from featmesh.connector.catalog import open_catalog
from featmesh.connector.cli import Handled
from featmesh.connector.commands.options import catalog_option, timeout_option, timeout_settings
from featmesh.connector.errors import InputError
from featmesh.connector.mapping.graph import MeshGraph
from featmesh.connector.reports.impact import impact_markdown, impact_text


@click.command(cls=Handled)
@click.argument("target")
@catalog_option()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="markdown suits a pull-request comment.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@timeout_option
def impact(
    target: str, catalog_uri: str | None, fmt: str, as_json: bool, timeout: float | None = None
) -> None:
    """Print what is downstream of TARGET: derived sets, features, models, endpoints, owners."""
    store = open_catalog(catalog_uri, read_only=True, **timeout_settings(timeout))
    try:
        graph = MeshGraph.from_entities(store.export())
    finally:
        store.close()
    found = graph.resolve(target)
    if not found:
        raise InputError(
            f"'{target}' names no data product, feature set, feature or model the catalog holds "
            "(give a qualifiedName, or a source URI or table name as feature sets read it)"
        )
    impacts = [graph.downstream(qn) for qn in found]
    if as_json or fmt == "json":
        body = [i.to_json() for i in impacts]
        click.echo(json.dumps(body[0] if len(body) == 1 else {"targets": body}, indent=2, sort_keys=True))
    elif fmt == "markdown":
        click.echo(impact_markdown(impacts))
    else:
        click.echo(impact_text(impacts))

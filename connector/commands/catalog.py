"""``featmesh catalog export [--catalog URI]``: what a catalog holds, as Atlas JSON."""

from __future__ import annotations

import json

import click

from connector.catalog import open_catalog
from connector.cli import Handled


@click.group()
def catalog() -> None:
    """Read what a catalog holds."""


@catalog.command("export", cls=Handled)
@click.option("--catalog", "catalog_uri", metavar="URI", help="local[:PATH] (default .featmesh/catalog.db).")
def export(catalog_uri: str | None) -> None:
    """Print every entity the catalog holds as {"entities": [...]}."""
    store = open_catalog(catalog_uri, read_only=True)
    try:
        entities = store.export()
    finally:
        store.close()
    click.echo(json.dumps({"entities": entities}, indent=2, sort_keys=True))

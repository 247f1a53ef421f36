"""``featmesh catalog export [--catalog URI]``: what a catalog holds, as Atlas JSON."""

from __future__ import annotations

import json

import click

from featmesh.connector.catalog import open_catalog
from featmesh.connector.cli import Handled
from featmesh.connector.commands.options import catalog_option


@click.group()
def catalog() -> None:
    """Read what a catalog holds."""


@catalog.command("export", cls=Handled)
@catalog_option()
def export(catalog_uri: str | None) -> None:
    """Print every entity the catalog holds as {"entities": [...]}."""
    store = open_catalog(catalog_uri, read_only=True)
    try:
        entities = store.export()
    finally:
        store.close()
    click.echo(json.dumps({"entities": entities}, indent=2, sort_keys=True))

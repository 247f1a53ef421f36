"""``featmesh init [PATH]``: write a commented starter ``featmesh.yaml``."""

from __future__ import annotations

from pathlib import Path

import click

from featmesh.connector.cli import Handled
from featmesh.connector.config import DEFAULT_NAME, load_config
from featmesh.connector.errors import InputError

STARTER = """\
# featmesh configuration: what a scheduled scan reads, where it publishes, what it checks.
# Paths are relative to this file. Check it with: featmesh scan --config {name} --dry-run
version: 1

catalog:
  # local[:PATH] (the embedded SQLite catalog), atlas+https://HOST[:PORT], purview://ACCOUNT
  # or purview+https://HOST[:PORT] (a Data Map endpoint: private endpoint, sovereign cloud)
  uri: local:.featmesh/catalog.db
  batch_size: 100          # entities per bulk write
  keep_deleted: false      # true: classify vanished feature sets FEATMESH.RETIRED instead of deleting
  # Credentials are never written here. Atlas reads ATLAS_USERNAME / ATLAS_PASSWORD; Purview uses
  # azure-identity (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, or a managed identity).

sources:
  # KIND:PATH-OR-URL (manifest:, feast:, azureml:, feathr:, databricks:) or a path whose kind is detected
  - uri: manifest:feature-manifests
    domain: payments       # domain of every feature set of this source
  # - uri: databricks:https://adb-1234567890123456.7.azuredatabricks.net?catalog=ml&schema=fraud
  #   env:
  #     DATABRICKS_TOKEN: DBX_FRAUD_TOKEN   # the reader's variable <- the variable holding it here

domains: {{}}                # KIND/STORE, STORE or KIND/STORE/SET -> domain (wins over all else)

data_products: []          # rules resolving source URIs to existing catalog entities, e.g.
#  - match: '^(?P<catalog>\\w+)\\.(?P<schema>\\w+)\\.(?P<table>\\w+)$'
#    type: databricks_table
#    qualified_name: 'databricks://WORKSPACE/catalogs/{{catalog}}/schemas/{{schema}}/tables/{{table}}'

policies:
  packs: [mesh-baseline]   # built-in pack names or paths to pack files
  # waivers: waivers.yaml
  # fail_on: error         # critical | error | warning | info | never: scan and check exit 1 on an
                           # unwaived finding at or above it (unset: scan never, check error)

profiling:
  enabled: false           # true: profile each feature set's source data with pyarrow
  # sample_rows: 100000

report:
  format: html             # html | markdown | json
  output: reports/featmesh.html
"""


@click.command(cls=Handled)
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path | None, force: bool) -> None:
    """Write a commented starter featmesh.yaml (default ./featmesh.yaml)."""
    path = path or Path(DEFAULT_NAME)
    if path.exists() and not force:
        raise InputError("already exists; pass --force to overwrite it", path=str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(STARTER.format(name=path.name), encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror}", path=str(path)) from None
    load_config(path)  # the starter must itself be valid
    click.echo(f"wrote {path}: edit its sources, then run featmesh scan --config {path} --dry-run")

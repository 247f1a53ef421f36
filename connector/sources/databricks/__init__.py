"""The ``databricks`` source: feature tables in a Databricks workspace, read over REST.

Location: ``databricks:BASE_URL[?QUERY]``, for example
``databricks:https://adb-1234567890123456.7.azuredatabricks.net?catalog=ml&schema=features``.

Query parameters (all optional):

``catalog``, ``schema``
    Limit Unity Catalog to one catalog and/or schema; without them every catalog
    (but ``system``) and schema (but ``information_schema``) is listed. ``schema``
    also limits the legacy store to tables named ``schema.*``.
``api``
    ``unity`` (Unity Catalog feature tables), ``legacy`` (the workspace feature
    store) or ``all`` (default): both. With ``all`` a workspace without the legacy
    feature store API is noted as a warning; with ``legacy`` it is an error.
``lineage``
    ``true`` (default) or ``false``: ask lineage tracking for each Unity Catalog
    table's upstream tables (one call per table).
``models``
    ``true`` (default) or ``false``: read the registered models of each schema in scope
    whose versions depend on tables (the Feature Engineering client records them), and
    the serving endpoints serving those versions, as consumers (one call per schema and
    per model, and one for the endpoints).

Stores: one per Unity Catalog ``catalog.schema`` holding feature tables, and one
named after the workspace host for the legacy store.

The base URL must be ``https://``, except for a loopback host (``http://127.0.0.1``,
``http://localhost``), so that a bearer token never crosses a network in clear text.
Credentials: ``DATABRICKS_TOKEN``, or on Azure Databricks an Entra token from
azure-identity (see :mod:`.auth`). Plain ``requests`` is used rather than
databricks-sdk: the few endpoints needed are simple, the retry policy is featmesh's
own, and the legacy feature store API is not in the SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from featmesh.connector.errors import InputError
from featmesh.connector.model import FeatureStore
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import Reader
from featmesh.connector.sources.databricks.unity import UnityScope

KIND = "databricks"
_APIS = ("all", "unity", "legacy")
_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, kw_only=True)
class Target:
    """A parsed ``databricks:`` location."""

    base_url: str
    hostname: str
    api: str = "all"
    scope: UnityScope = field(default_factory=UnityScope)


def parse_location(location: str) -> Target:
    """Check and split a ``databricks:`` location; InputError names what is wrong."""
    parts = urlsplit(location)
    if parts.username or parts.password:
        raise InputError(
            "a databricks: URL must not hold credentials: set DATABRICKS_TOKEN in the environment",
            path=f"databricks:{parts.scheme}://{parts.hostname or ''}",
        )
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError("expected a workspace URL such as https://HOST[?catalog=C&schema=S]", path=location)
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise InputError("use https:// (plain http is accepted only for a loopback host)", path=location)
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"catalog", "schema", "api", "lineage", "models"})
    if unknown:
        raise InputError(
            f"unknown query parameter(s) {', '.join(unknown)} (known: catalog, schema, api, lineage, models)",
            path=location,
        )
    values = {k: v[-1] for k, v in query.items()}
    api = values.get("api", "all")
    if api not in _APIS:
        raise InputError(f"api={api!r}: expected one of {', '.join(_APIS)}", path=location)
    lineage = _BOOLS.get(values.get("lineage", "true").lower())
    if lineage is None:
        raise InputError(f"lineage={values['lineage']!r}: expected true or false", path=location)
    models = _BOOLS.get(values.get("models", "true").lower())
    if models is None:
        raise InputError(f"models={values['models']!r}: expected true or false", path=location)
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    return Target(
        base_url=base,
        hostname=parts.hostname,
        api=api,
        scope=UnityScope(
            catalog=values.get("catalog") or None,
            schema=values.get("schema") or None,
            lineage=lineage,
            models=models,
        ),
    )


def read(location: str, report: SourceReport, options: Mapping[str, Any]) -> list[FeatureStore]:
    # the HTTP client and credentials are imported only when a workspace is read
    from featmesh.connector.sources.databricks.auth import token_provider
    from featmesh.connector.sources.databricks.client import Client, NotFound
    from featmesh.connector.sources.databricks.legacy import read_legacy
    from featmesh.connector.sources.databricks.unity import read_unity

    target = parse_location(location)
    token, hint = token_provider(target.hostname)
    client = Client(
        base_url=target.base_url,
        token=token,
        credential_hint=hint,
        **({"policy": options["retry_policy"]} if "retry_policy" in options else {}),
        **({"sleep": options["sleep"]} if "sleep" in options else {}),
    )
    stores: list[FeatureStore] = []
    if target.api in ("all", "unity"):
        stores.extend(read_unity(client, target.scope, report))
    if target.api in ("all", "legacy"):
        try:
            legacy = read_legacy(client, target.scope.schema, report)
        except NotFound as err:
            if target.api == "legacy":
                raise
            report.warn(f"no workspace feature store API here ({err})")
        else:
            if legacy.feature_sets or target.api == "legacy":
                stores.append(legacy)
    return stores


def detect(path: Path) -> bool:
    """Never: a workspace is a URL, not a path, so it always needs ``databricks:``."""
    return False


READER = Reader(
    kind=KIND,
    read=read,
    detect=detect,
    description="Databricks feature tables: Unity Catalog and the workspace feature store (REST)",
)

"""Unity Catalog feature tables: Delta tables with a PRIMARY KEY constraint.

One store per ``catalog.schema``. A table's join keys are its primary-key columns
minus the constraint's timeseries columns; the (first) timeseries column is the
timestamp; every other column is a feature. Tables without a primary key are not
feature tables: they are skipped and counted (``tables_without_primary_key``).
Upstream lineage (``/api/2.0/lineage-tracking/table-lineage``) becomes source
references; an upstream that is itself a feature table read here becomes a
derived-from link instead. The models and serving endpoints reading the tables are read
by :mod:`.models`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from featmesh.connector.errors import SourceError
from featmesh.connector.model import (
    Feature,
    FeatureSet,
    FeatureSetRef,
    FeatureStore,
    KeyColumn,
    Origin,
    SourceRef,
    normalize_dtype,
)
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources.common import infer_source_kind

if TYPE_CHECKING:  # the HTTP client (requests) is imported only when a workspace is read
    from featmesh.connector.sources.databricks.client import Client

KIND = "databricks"
UC = "/api/2.1/unity-catalog"
LINEAGE = "/api/2.0/lineage-tracking/table-lineage"
SKIPPED_CATALOGS = ("system",)
SKIPPED_SCHEMAS = ("information_schema",)
_INTERNAL_PROPERTY = ("delta.", "spark.", "clusteringColumns", "databricks.")


@dataclass(frozen=True, kw_only=True)
class UnityScope:
    catalog: str | None = None
    schema: str | None = None
    lineage: bool = True
    models: bool = True
    """Read the registered models of each schema in scope and the serving endpoints
    (:mod:`.models`)."""


def read_unity(client: Client, scope: UnityScope, report: SourceReport) -> list[FeatureStore]:
    """The feature tables in scope, one store per schema that holds any."""
    stores = []
    walked: list[tuple[str, str]] = []
    for catalog in _catalogs(client, scope):
        for schema in _schemas(client, catalog, scope):
            walked.append((catalog, schema))
            store = _read_schema(client, catalog, schema, scope, report)
            if store.feature_sets or scope.schema:
                # a schema named in the source is a store even when it holds no feature
                # table any more: its published sets must be planned for deletion
                stores.append(store)
    if not stores and (scope.catalog or scope.schema):
        report.warn(f"{client.host}: no feature tables (tables with a primary key) in scope")
    linked = _link_feature_tables(stores)
    if not scope.models:
        return linked
    from featmesh.connector.sources.databricks.models import read_consumers

    return read_consumers(client, walked, linked, report)


def _catalogs(client: Client, scope: UnityScope) -> list[str]:
    if scope.catalog:
        return [scope.catalog]
    names = [str(c.get("name")) for c in client.pages(f"{UC}/catalogs", "catalogs")]
    return [n for n in names if n not in SKIPPED_CATALOGS and not n.startswith("__")]


def _schemas(client: Client, catalog: str, scope: UnityScope) -> list[str]:
    if scope.schema:
        return [scope.schema]
    listed = client.pages(f"{UC}/schemas", "schemas", {"catalog_name": catalog})
    return [str(s.get("name")) for s in listed if s.get("name") not in SKIPPED_SCHEMAS]


def _read_schema(
    client: Client, catalog: str, schema: str, scope: UnityScope, report: SourceReport
) -> FeatureStore:
    store = f"{catalog}.{schema}"
    sets = []
    listed = client.pages(f"{UC}/tables", "tables", {"catalog_name": catalog, "schema_name": schema})
    for table in listed:
        report.count("tables")
        if "table_constraints" not in table:  # some listings leave constraints out
            table = client.get(f"{UC}/tables/{quote(str(table.get('full_name')))}")
        key = _primary_key(table)
        if key is None:
            report.count("tables_without_primary_key")
            continue
        upstream = _upstream(client, table, report) if scope.lineage else []
        sets.append(feature_set_from_table(client.base_url, store, table, key, upstream))
    return FeatureStore(
        kind=KIND,
        name=store,
        uri=f"{client.base_url}?catalog={catalog}&schema={schema}",
        feature_sets=tuple(sets),
    )


def _primary_key(table: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for constraint in table.get("table_constraints") or []:
        key = constraint.get("primary_key_constraint") if isinstance(constraint, dict) else None
        if key and key.get("child_columns"):
            return dict(key)
    return None


def feature_set_from_table(
    base_url: str,
    store: str,
    table: Mapping[str, Any],
    key: Mapping[str, Any],
    upstream: Iterable[SourceRef],
) -> FeatureSet:
    """A feature set from a Unity Catalog table object and its primary-key constraint."""
    columns = {c["name"]: c for c in table.get("columns") or [] if isinstance(c, dict) and c.get("name")}
    key_columns = list(key.get("child_columns") or [])
    timeseries = list(key.get("timeseries_columns") or [])
    join_keys = tuple(
        _key_column(name, columns.get(name, {})) for name in key_columns if name not in timeseries
    )
    features = tuple(_feature(c) for name, c in columns.items() if name not in key_columns)
    properties = {str(k): str(v) for k, v in (table.get("properties") or {}).items()}
    location = table.get("storage_location")
    full_name = str(table.get("full_name") or f"{store}.{table.get('name')}")
    sources = []
    if location:
        fmt = str(table.get("data_source_format") or "").lower() or None
        sources.append(
            SourceRef(kind=infer_source_kind(location, fmt), uri=location, name=full_name, format=fmt)
        )
    sources.extend(upstream)
    extra = {
        k: table[k]
        for k in (
            "full_name",
            "table_type",
            "data_source_format",
            "table_id",
            "created_at",
            "updated_at",
            "created_by",
            "storage_location",
        )
        if table.get(k) is not None
    }
    extra.update(primary_key=dict(key), properties=properties)
    return FeatureSet(
        store_kind=KIND,
        store=store,
        name=str(table.get("name") or full_name.rsplit(".", 1)[-1]),
        owner=table.get("owner") or None,
        description=table.get("comment") or "",
        tags={k: v for k, v in properties.items() if not k.startswith(_INTERNAL_PROPERTY)},
        join_keys=join_keys,
        timestamp_field=timeseries[0] if timeseries else None,
        features=features,
        sources=tuple(sources),
        extra=extra,
        origin=Origin(path=f"{base_url}{UC}/tables/{full_name}"),
    )


def _type_of(column: Mapping[str, Any]) -> str | None:
    raw = column.get("type_text") or column.get("type_name")
    return str(raw) if raw else None


def _key_column(name: str, column: Mapping[str, Any]) -> KeyColumn:
    raw = _type_of(column)
    return KeyColumn(name=name, dtype=normalize_dtype(raw), raw_type=raw)


def _feature(column: Mapping[str, Any]) -> Feature:
    raw = _type_of(column)
    extra = {k: column[k] for k in ("nullable", "position", "type_name") if k in column}
    return Feature(
        name=column["name"],
        dtype=normalize_dtype(raw),
        raw_type=raw,
        description=column.get("comment") or "",
        extra=extra,
    )


def _upstream(client: Client, table: Mapping[str, Any], report: SourceReport) -> list[SourceRef]:
    """The tables and paths lineage tracking saw this table read from."""
    from featmesh.connector.sources.databricks.client import NotFound

    full_name = str(table.get("full_name"))
    try:
        body = client.get(LINEAGE, {"table_name": full_name, "include_entity_lineage": "false"})
    except NotFound:
        return []
    except SourceError as err:
        # Publishing the table without its lineage would delete the lineage already
        # published: the whole source fails instead, and the catalog keeps what it had.
        report.count("lineage_failures")
        raise SourceError(
            f"lineage of {full_name} unavailable ({err}); the store is left as published "
            "(add lineage=false to the source to scan without lineage)"
        ) from None
    refs = []
    for entry in body.get("upstreams") or []:
        ref = _upstream_ref(entry) if isinstance(entry, dict) else None
        if ref is not None and ref not in refs:
            refs.append(ref)
    report.count("lineage_upstreams", len(refs))
    return refs


def _upstream_ref(entry: Mapping[str, Any]) -> SourceRef | None:
    info = entry.get("tableInfo")
    if isinstance(info, dict) and info.get("name"):
        name = ".".join(str(info[k]) for k in ("catalog_name", "schema_name", "name") if info.get(k))
        extra = {k: info[k] for k in ("table_type", "lineage_timestamp") if k in info}
        return SourceRef(kind="table", uri=name, name=name, extra={"lineage": "unity-catalog", **extra})
    path = (entry.get("fileInfo") or {}).get("path") if isinstance(entry.get("fileInfo"), dict) else None
    if path:
        return SourceRef(kind=infer_source_kind(path), uri=str(path), extra={"lineage": "unity-catalog"})
    return None


def _link_feature_tables(stores: list[FeatureStore]) -> list[FeatureStore]:
    """An upstream table that is a feature table read here is a parent feature set."""
    by_table = {str(fs.extra.get("full_name")): fs.ref for store in stores for fs in store.feature_sets}
    linked = []
    for store in stores:
        sets = []
        for fs in store.feature_sets:
            parents: list[FeatureSetRef] = []
            kept = []
            for ref in fs.sources:
                parent = by_table.get(ref.uri) if ref.kind == "table" else None
                if parent is not None and parent != fs.ref:
                    parents.append(parent)
                else:
                    kept.append(ref)
            sets.append(replace(fs, sources=tuple(kept), derived_from=tuple(parents)) if parents else fs)
        linked.append(replace(store, feature_sets=tuple(sets)))
    return linked

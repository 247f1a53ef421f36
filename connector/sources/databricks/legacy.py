"""The legacy workspace feature store (``/api/2.0/feature-store``).

Feature tables are found by ``feature-tables/search`` (paged), read in full with
``feature-tables/get`` and their features listed with ``features/get`` (paged). The
whole workspace is one store named after its host. Keys are ``primary_keys`` minus
``timestamp_keys``; data sources (tables, paths, custom) become source references.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from featmesh.connector.model import (
    Feature,
    FeatureSet,
    FeatureStore,
    KeyColumn,
    Origin,
    SourceRef,
    normalize_dtype,
)
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources.common import infer_source_kind
from featmesh.connector.sources.databricks.client import Client

KIND = "databricks"
API = "/api/2.0/feature-store"
_SOURCE_LISTS = ("data_sources", "table_data_sources", "path_data_sources", "custom_data_sources")


def read_legacy(client: Client, schema: str | None, report: SourceReport) -> FeatureStore:
    """Every feature table of the workspace feature store (in ``schema`` if given)."""
    store = client.host
    sets = []
    for summary in client.pages(f"{API}/feature-tables/search", "feature_tables"):
        name = str(summary.get("name") or "")
        if not name or (schema and not name.startswith(f"{schema}.")):
            continue
        table = client.get(f"{API}/feature-tables/get", {"name": name}).get("feature_table") or summary
        features = list(client.pages(f"{API}/features/get", "features", {"feature_table": name}))
        sets.append(feature_set_from_legacy(client.base_url, store, table, features))
        report.count("legacy_feature_tables")
    return FeatureStore(
        kind=KIND,
        name=store,
        uri=client.base_url,
        feature_sets=tuple(sets),
        extra={"api": "workspace-feature-store"},
    )


def feature_set_from_legacy(
    base_url: str, store: str, table: Mapping[str, Any], features: Sequence[Mapping[str, Any]]
) -> FeatureSet:
    name = str(table["name"])
    primary = [str(k) for k in table.get("primary_keys") or []]
    timestamps = [str(k) for k in table.get("timestamp_keys") or []]
    types = {str(f.get("name")): _raw_type(f) for f in features}
    join_keys = tuple(
        KeyColumn(name=k, dtype=normalize_dtype(types.get(k)), raw_type=types.get(k))
        for k in primary
        if k not in timestamps
    )
    key_names = set(primary) | set(timestamps)
    extra = {
        k: table[k]
        for k in (
            "id",
            "creation_timestamp",
            "last_updated_timestamp",
            "creator_id",
            "partition_keys",
            "notebook_producers",
            "job_producers",
            "online_stores",
        )
        if table.get(k) is not None
    }
    extra["api"] = "workspace-feature-store"
    return FeatureSet(
        store_kind=KIND,
        store=store,
        name=name,
        owner=table.get("creator_id") or None,
        description=table.get("description") or "",
        tags=_tags(table.get("tags")),
        join_keys=join_keys,
        timestamp_field=timestamps[0] if timestamps else None,
        features=tuple(_feature(f) for f in features if f.get("name") not in key_names),
        sources=tuple(_sources(table)),
        extra=extra,
        origin=Origin(path=f"{base_url}{API}/feature-tables/get?name={name}"),
    )


def _raw_type(feature: Mapping[str, Any]) -> str | None:
    raw = feature.get("data_type") or feature.get("data_type_details")
    return str(raw) if raw else None


def _feature(raw: Mapping[str, Any]) -> Feature:
    dtype = _raw_type(raw)
    return Feature(
        name=str(raw["name"]),
        dtype=normalize_dtype(dtype),
        raw_type=dtype,
        description=raw.get("description") or "",
        extra={k: raw[k] for k in ("data_type_details", "table") if k in raw},
    )


def _tags(raw: Any) -> dict[str, str]:
    """``[{key, value}]`` as the API writes tags (a plain mapping is taken too)."""
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    return {str(t["key"]): str(t.get("value", "")) for t in raw or [] if isinstance(t, dict) and "key" in t}


def _sources(table: Mapping[str, Any]) -> list[SourceRef]:
    refs: list[SourceRef] = []
    for field_name in _SOURCE_LISTS:
        for entry in table.get(field_name) or []:
            ref = _source(field_name, entry)
            if ref is not None and ref not in refs:
                refs.append(ref)
    return refs


def _source(field_name: str, entry: Any) -> SourceRef | None:
    """A data source entry: a bare string, or an object naming a table, a path or a
    custom source."""
    if isinstance(entry, str):
        text = entry
        info: dict[str, Any] = {}
    elif isinstance(entry, dict):
        info = dict(entry)
        text = next((str(info[k]) for k in ("table", "name", "path", "source") if info.get(k)), "")
    else:
        return None
    if not text:
        return None
    if field_name == "custom_data_sources":
        return SourceRef(kind="custom", uri=text, extra=info)
    kind = infer_source_kind(text)
    if field_name == "path_data_sources" and kind == "table":
        kind = "file"
    return SourceRef(kind=kind, uri=text, name=text if kind == "table" else None, extra=info)

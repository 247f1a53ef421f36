"""An ODCS v3.0.2 data contract per feature set: what a feature set promises its readers.

The contract (``apiVersion: v3.0.2``, ``kind: DataContract``) is the set seen as a data
product of its own:

- ``id`` is the set's qualifiedName, ``name`` and ``version`` its own (``latest`` when
  unversioned), ``status`` ``active``, ``domain`` its domain, ``dataProduct`` its store;
- ``description.purpose`` is its description; ``team`` its owner (role ``owner``); ``tags``
  its tags as ``key:value``;
- one schema object named after the set (``physicalType`` ``table``), whose properties are
  the join keys (``primaryKey``, ``primaryKeyPosition``), the timestamp column and the
  features, each with ``logicalType`` (from the featmesh dtype) and ``physicalType`` (the
  store's own spelling, else the dtype);
- its TTL as the ``freshness`` SLA on the timestamp column;
- ``customProperties``: the sources it reads, the sets it derives from and, when the run
  read them, the consumers that read it (``KIND/NAME[@VERSION]``).

Every document is validated against the shipped ODCS schema before it is returned, so an
exported contract is one :func:`featmesh.connector.contracts.load_contract` reads back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from featmesh.connector.contracts import schema
from featmesh.connector.documents import Document, validate
from featmesh.connector.model import Consumer, FeatureSet

API_VERSION = "v3.0.2"
_LOGICAL = {
    "bool": "boolean",
    "int8": "integer",
    "int16": "integer",
    "int32": "integer",
    "int64": "integer",
    "float32": "number",
    "float64": "number",
    "decimal": "number",
    "string": "string",
    "bytes": "string",
    "date": "date",
    "timestamp": "date",
    "map": "object",
    "struct": "object",
}


def logical_type(dtype: str) -> str | None:
    """The ODCS ``logicalType`` of a featmesh dtype (None when it is unknown)."""
    if dtype.startswith("array<"):
        return "array"
    return _LOGICAL.get(dtype)


def _column(name: str, dtype: str, raw: str | None, description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    kind = logical_type(dtype)
    if kind:
        out["logicalType"] = kind
    if raw or dtype != "unknown":
        out["physicalType"] = raw or dtype
    if description:
        out["description"] = description
    return out


def _duration(seconds: int) -> tuple[int, str]:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return seconds // size, unit
    return seconds, "s"


def feature_set_contract(fs: FeatureSet, consumers: Iterable[Consumer] = ()) -> dict[str, Any]:
    """The ODCS v3.0.2 contract of ``fs`` (validated), ``consumers`` being its readers."""
    properties = []
    for position, key in enumerate(fs.join_keys, start=1):
        column = _column(key.name, key.dtype, key.raw_type, key.description)
        properties.append({**column, "primaryKey": True, "primaryKeyPosition": position, "required": True})
    names = {k.name for k in fs.join_keys}
    if fs.timestamp_field and fs.timestamp_field not in names:
        properties.append({"name": fs.timestamp_field, "logicalType": "date", "physicalType": "timestamp"})
        names.add(fs.timestamp_field)
    for feature in fs.features:
        if feature.name not in names:
            properties.append(_column(feature.name, feature.dtype, feature.raw_type, feature.description))
    obj: dict[str, Any] = {
        "name": fs.name,
        "logicalType": "object",
        "physicalType": "table",
        "properties": properties,
    }
    if fs.description:
        obj["description"] = fs.description
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": fs.qualified_name,
        "name": fs.name,
        "version": fs.version or "latest",
        "status": "active",
        "dataProduct": fs.store,
        "schema": [obj],
    }
    if fs.domain:
        document["domain"] = fs.domain
    if fs.description:
        document["description"] = {"purpose": fs.description}
    if fs.owner:
        document["team"] = [{"username": fs.owner, "role": "owner"}]
    if fs.tags:
        document["tags"] = [f"{k}:{v}" for k, v in sorted(fs.tags.items())]
    if fs.ttl_seconds:
        value, unit = _duration(fs.ttl_seconds)
        sla: dict[str, Any] = {"property": "freshness", "value": value, "unit": unit}
        if fs.timestamp_field:
            sla["element"] = f"{fs.name}.{fs.timestamp_field}"
        document["slaProperties"] = [sla]
    custom = [
        ("featmeshStore", f"{fs.store_kind}/{fs.store}"),
        ("sources", [s.uri for s in fs.sources]),
        ("derivedFrom", [r.qualified_name for r in fs.derived_from]),
        ("consumers", sorted({c.key for c in consumers})),
    ]
    document["customProperties"] = [{"property": k, "value": v} for k, v in custom if v]
    order = ("apiVersion", "kind", "id", "name", "version", "status", "domain", "dataProduct",
             "description", "team", "tags", "schema", "slaProperties", "customProperties")  # fmt: skip
    document = {k: document[k] for k in order if k in document}
    validate(Document(data=document, path=f"<contract of {fs.qualified_name}>"), schema())
    return document


def file_name(fs: FeatureSet) -> str:
    """``STORE__NAME@VERSION.odcs.yaml``, safe on every file system."""
    raw = f"{fs.store}__{fs.name}@{fs.version or 'latest'}"
    return "".join(c if c.isalnum() or c in "._@-" else "_" for c in raw) + ".odcs.yaml"

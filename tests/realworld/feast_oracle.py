"""Write the Feast SDK's own listing of a registry as the oracle JSON of a corpus artifact.

Run it with the Python of an environment where ``feast`` is installed (never featmesh's):
``/path/to/feastenv/bin/python tests/realworld/feast_oracle.py REGISTRY.db PROJECT > oracle.json``.
It loads the registry with Feast's own ``Registry`` class (the repo's Python is not needed)
and lists, through the SDK's objects, what featmesh is compared with: views, their
features (name, dtype, description, tags), entities and join keys, timestamps, TTLs, tags,
owners, sources, feature services and the features each reads. Not imported by the test
suite (it needs Feast).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _source(source: Any) -> dict[str, Any] | None:
    if source is None:
        return None
    out: dict[str, Any] = {
        "name": source.name,
        "class": type(source).__name__,
        "timestamp_field": getattr(source, "timestamp_field", "") or "",
        "created_timestamp_column": getattr(source, "created_timestamp_column", "") or "",
        "owner": getattr(source, "owner", "") or "",
        "tags": dict(getattr(source, "tags", {}) or {}),
    }
    for attribute in ("path", "table", "query", "topic"):
        value = getattr(source, attribute, None)
        if isinstance(value, str) and value:
            out[attribute] = value
    batch = getattr(source, "batch_source", None)
    if batch is not None:
        out["batch_source"] = batch.name
    return out


def _fields(fields: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": f.name,
            "dtype": str(f.dtype),
            "value_type": f.dtype.to_value_type().name,
            "description": f.description or "",
            "tags": dict(f.tags or {}),
        }
        for f in fields
    ]


def _view(view: Any, kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": view.name,
        "kind": kind,
        "description": view.description or "",
        "owner": view.owner or "",
        "tags": dict(view.tags or {}),
        "features": _fields(view.features),
    }
    if kind != "on_demand":
        ttl = view.ttl
        out["ttl_seconds"] = int(ttl.total_seconds()) if ttl else 0
        out["entities"] = list(view.entities)
        out["entity_columns"] = _fields(view.entity_columns)
        out["online"] = bool(view.online)
        out["batch_source"] = _source(view.batch_source)
        out["stream_source"] = _source(view.stream_source)
    else:
        out["sources"] = sorted(
            [p.name for p in view.source_feature_view_projections.values()]
            + [s.name for s in view.source_request_sources.values()]
        )
    return out


def listing(registry_path: Path, project: str) -> dict[str, Any]:
    """The SDK's listing of ``project`` in the file registry at ``registry_path``."""
    import feast
    from feast.infra.registry.registry import Registry
    from feast.repo_config import RegistryConfig

    path = registry_path.resolve()
    registry = Registry(project, RegistryConfig(path=str(path)), repo_path=path.parent)
    views = [_view(v, "batch") for v in registry.list_feature_views(project)]
    views += [_view(v, "stream") for v in registry.list_stream_feature_views(project)]
    views += [_view(v, "on_demand") for v in registry.list_on_demand_feature_views(project)]
    entities = [
        {
            "name": e.name,
            "join_key": e.join_key,
            "value_type": e.value_type.name,
            "description": e.description or "",
            "owner": e.owner or "",
            "tags": dict(e.tags or {}),
        }
        for e in registry.list_entities(project)
    ]
    services = [
        {
            "name": s.name,
            "owner": s.owner or "",
            "description": s.description or "",
            "tags": dict(s.tags or {}),
            "features": sorted(
                f"{p.name_to_use()}:{f.name}" for p in s.feature_view_projections for f in p.features
            ),
        }
        for s in registry.list_feature_services(project)
    ]
    sources = [_source(s) for s in registry.list_data_sources(project)]
    return {
        "feast_version": feast.__version__,
        "project": project,
        "feature_views": sorted(views, key=lambda v: v["name"]),
        "entities": sorted(entities, key=lambda e: e["name"]),
        "feature_services": sorted(services, key=lambda s: s["name"]),
        "data_sources": sorted((s for s in sources if s), key=lambda s: s["name"]),
    }


LEGACY_TYPES = {
    "BOOL": "Bool",
    "FLOAT": "Float32",
    "DOUBLE": "Float64",
    "INT32": "Int32",
    "INT64": "Int64",
    "STRING": "String",
    "UNIX_TIMESTAMP": "UnixTimestamp",
}
"""A ValueType name -> the name later Feast gives that type (feast.types)."""


def _legacy_source(source: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": getattr(source, "name", "") or "",
        "class": type(source).__name__,
        "timestamp_field": source.event_timestamp_column or "",
        "created_timestamp_column": source.created_timestamp_column or "",
        "owner": "",
        "tags": {},
    }
    for attribute in ("path", "table", "query"):
        value = getattr(source, attribute, None)
        if isinstance(value, str) and value:
            out[attribute] = value
    return out


def legacy_listing(registry_path: Path, project: str) -> dict[str, Any]:
    """The same listing from a Feast release before ``feast.types`` (0.12: features are
    ``Feature(name, dtype=ValueType)``, views have no entity columns, sources no name)."""
    from datetime import timedelta

    import feast
    from feast.registry import Registry

    path = registry_path.resolve()
    registry = Registry(str(path), path.parent, timedelta(seconds=0))
    entities = {e.name: e for e in registry.list_entities(project)}
    views = []
    for view in registry.list_feature_views(project):
        fields = [
            {
                "name": f.name,
                "dtype": LEGACY_TYPES[f.dtype.name],
                "value_type": f.dtype.name,
                "description": "",
                "tags": dict(f.labels or {}),
            }
            for f in view.features
        ]
        keys = [
            {
                "name": entities[e].join_key,
                "dtype": LEGACY_TYPES[entities[e].value_type.name],
                "value_type": entities[e].value_type.name,
                "description": "",
                "tags": {},
            }
            for e in view.entities
        ]
        views.append(
            {
                "name": view.name,
                "kind": "batch",
                "description": "",
                "owner": "",
                "tags": dict(view.tags or {}),
                "features": fields,
                "ttl_seconds": int(view.ttl.total_seconds()) if view.ttl else 0,
                "entities": list(view.entities),
                "entity_columns": keys,
                "online": bool(view.online),
                "batch_source": _legacy_source(view.batch_source),
                "stream_source": None,
            }
        )
    return {
        "feast_version": feast.__version__,
        "project": project,
        "feature_views": sorted(views, key=lambda v: v["name"]),
        "entities": sorted(
            (
                {
                    "name": e.name,
                    "join_key": e.join_key,
                    "value_type": e.value_type.name,
                    "description": e.description or "",
                    "owner": "",
                    "tags": dict(e.labels or {}),
                }
                for e in entities.values()
            ),
            key=lambda e: e["name"],
        ),
        "feature_services": [],
        "data_sources": [],
    }


def main() -> None:
    registry_path, project = Path(sys.argv[1]), sys.argv[2]
    try:
        import feast.types  # noqa: F401  (Feast 0.17 and later)
    except ImportError:
        out = legacy_listing(registry_path, project)
    else:
        out = listing(registry_path, project)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

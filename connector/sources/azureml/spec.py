"""One ``FeatureSetSpec.yaml`` -> features, key columns, sources and lookbacks.

Source types (matched case-insensitively, as Azure ML does): ``parquet``, ``csv``,
``deltaTable`` and ``mltable`` read a path; ``custom`` runs a source-process class
over ``kwargs``; ``featureset`` reads another feature set, which is lineage between
feature sets rather than a dataset. The transformation is either code (a Spark
transformer class) or DSL window aggregations, one per feature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from featmesh.connector.documents import Document
from featmesh.connector.model import Feature, KeyColumn, SourceRef, normalize_dtype
from featmesh.connector.sources.common import duration_from_parts, infer_source_kind, parse_duration
from featmesh.connector.sources.localfiles import located

PATH_TYPES = {"parquet": "parquet", "csv": "csv", "deltatable": "delta", "mltable": "mltable"}
SOURCE_TYPES = (*PATH_TYPES, "custom", "featureset")

_ASSET_REF = re.compile(r"^(?:azureml:)?(?P<name>[A-Za-z0-9_.-]+)(?::(?P<version>[^:/@]+)|@latest)?$")
_ARM_REF = re.compile(r"/featuresets/(?P<name>[^/]+)(?:/versions/(?P<version>[^/]+))?/?$", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class ParsedSpec:
    features: tuple[Feature, ...]
    keys: tuple[KeyColumn, ...]
    sources: tuple[SourceRef, ...]
    parent: tuple[str, str | None] | None
    """``(name, version)`` of the feature set a ``featureset`` source reads."""
    timestamp_field: str | None
    temporal_join_lookback: int | None
    extra: dict[str, Any] = field(default_factory=dict)


def parse_spec(doc: Document) -> ParsedSpec:
    """Map a validated spec document; InputError (with its line) for what does not fit."""
    data = doc.data
    source = data["source"]
    source_type = str(source["type"]).lower()
    if source_type not in SOURCE_TYPES:
        raise doc.error(
            f"unknown source type '{source['type']}' (expected one of: parquet, csv, mltable, "
            "deltaTable, custom, featureset)",
            ("source", "type"),
        )
    expressions = _expressions(doc)
    features = tuple(_feature(doc, i, raw, expressions) for i, raw in enumerate(data["features"]))
    keys = tuple(
        KeyColumn(name=c["name"], dtype=normalize_dtype(c["type"]), raw_type=c["type"])
        for c in data["index_columns"]
    )
    timestamp = (source.get("timestamp_column") or {}).get("name")
    extra: dict[str, Any] = {"source_type": source["type"]}
    for key in ("source_lookback", "temporal_join_lookback"):
        if key in data:
            extra[f"{key}_seconds"] = duration_from_parts(data[key]) or 0
    if "source_delay" in source:
        extra["source_delay_seconds"] = duration_from_parts(source["source_delay"]) or 0
    transformation = _transformation(data)
    if transformation:
        extra["transformation"] = transformation
    if transformation and transformation["kind"] == "code":
        label = transformation.get("transformer_class")
        features = tuple(replace(f, transformation=label) for f in features)
    parent = None
    sources: tuple[SourceRef, ...] = ()
    if source_type == "featureset":
        parent = _parent(doc)
    else:
        read = _columns_read(keys, features, timestamp, transformation)
        sources = (replace(_source(doc, source_type, timestamp), columns=read),)
    return ParsedSpec(
        features=features,
        keys=keys,
        sources=sources,
        parent=parent,
        timestamp_field=timestamp,
        temporal_join_lookback=extra.get("temporal_join_lookback_seconds") or None,
        extra=extra,
    )


def _columns_read(
    keys: tuple[KeyColumn, ...],
    features: tuple[Feature, ...],
    timestamp: str | None,
    transformation: dict[str, Any] | None,
) -> tuple[str, ...]:
    """The source columns the set reads, where the spec says: keys and timestamp always;
    features as named when there is no transformation, their DSL inputs when there is."""
    if transformation and transformation["kind"] == "code":
        used: list[str] = []
    elif transformation:
        used = [c for f in features for c in f.source_columns]
    else:
        used = [f.name for f in features]
    names = [k.name for k in keys] + used + ([timestamp] if timestamp else [])
    return tuple(dict.fromkeys(names))


def _source(doc: Document, source_type: str, timestamp: str | None) -> SourceRef:
    source = doc.data["source"]
    extra: dict[str, Any] = {}
    if (source.get("timestamp_column") or {}).get("format"):
        extra["timestamp_format"] = source["timestamp_column"]["format"]
    if source_type == "custom":
        code = source.get("source_process_code")
        if not code or not code.get("process_class"):
            raise doc.error(
                "a custom source needs source_process_code with path and process_class",
                ("source",),
            )
        extra.update(source_process_code=dict(code), kwargs=dict(source.get("kwargs") or {}))
        return SourceRef(
            kind="custom",
            uri=f"custom:{code['process_class']}",
            format=None,
            timestamp_field=timestamp,
            extra=extra,
        )
    if "path" not in source:
        raise doc.error(f"missing required key: 'path' (a {source['type']} source reads a path)", ("source",))
    path = source["path"]
    fmt = PATH_TYPES[source_type]
    kind = "mltable" if fmt == "mltable" and path.startswith("azureml:") else infer_source_kind(path, fmt)
    ref = SourceRef(kind=kind, uri=path, format=fmt, timestamp_field=timestamp, extra=extra)
    return located(ref, Path(doc.path).parent)  # a relative path is relative to the spec


def _parent(doc: Document) -> tuple[str, str | None]:
    path = doc.data["source"].get("path")
    if not path:
        raise doc.error("missing required key: 'path' (the feature set this one reads)", ("source",))
    match = _ARM_REF.search(path) if "/" in path else _ASSET_REF.match(path)
    if not match:
        raise doc.error(
            f"'{path}' is not a feature set reference (azureml:NAME:VERSION or an asset id)",
            ("source", "path"),
        )
    return match["name"], match["version"]


def _expressions(doc: Document) -> dict[str, tuple[int, dict[str, Any]]]:
    raw = (doc.data.get("feature_transformation") or {}).get("transformation_expressions") or []
    return {e["feature_name"]: (i, e) for i, e in enumerate(raw)}


def _feature(
    doc: Document, i: int, raw: dict[str, Any], expressions: dict[str, tuple[int, dict[str, Any]]]
) -> Feature:
    transformation = None
    columns: tuple[str, ...] = ()
    if raw["name"] in expressions:
        j, expression = expressions[raw["name"]]
        window = _window(doc, j, expression.get("window"))
        column = expression.get("source_column")
        transformation = f"{expression['aggregation']}({column or '*'}) over {window}s window"
        columns = (column,) if column else ()
    return Feature(
        name=raw["name"],
        dtype=normalize_dtype(raw["type"]),
        raw_type=raw["type"],
        description=raw.get("description", ""),
        tags={str(k): str(v) for k, v in (raw.get("tags") or {}).items()},
        source_columns=columns,
        transformation=transformation,
    )


def _window(doc: Document, j: int, raw: Any) -> int:
    where = ("feature_transformation", "transformation_expressions", j, "window")
    if raw is None:
        return 60  # Azure ML's default window is one minute
    try:
        return duration_from_parts(raw) or 0 if isinstance(raw, dict) else parse_duration(raw)
    except ValueError as err:
        raise doc.error(str(err), where) from None


def _transformation(data: dict[str, Any]) -> dict[str, Any] | None:
    modern = data.get("feature_transformation") or {}
    code = modern.get("transformation_code") or data.get("feature_transformation_code")
    if code:
        return {"kind": "code", **{k: code[k] for k in ("path", "transformer_class") if k in code}}
    expressions = modern.get("transformation_expressions")
    if expressions:
        return {"kind": "dsl", "expressions": len(expressions)}
    return None

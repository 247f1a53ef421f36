"""Feast data sources -> :class:`SourceRef`: the URI or table each kind of source reads.

| Feast source | kind | uri |
| --- | --- | --- |
| FileSource | by scheme (``file``, ``s3``, ``gcs``, ``adls``...) | the path as written |
| BigQuerySource | ``bigquery`` | ``project.dataset.table`` |
| SnowflakeSource / RedshiftSource | ``snowflake`` / ``redshift`` | ``database.schema.table`` |
| SparkSource | by path scheme, or ``table`` / ``delta`` | the path or the table |
| TrinoSource | ``trino`` | ``catalog.schema.table`` |
| AthenaSource | ``athena`` | ``data_source.database.table`` |
| KafkaSource | ``kafka`` | ``kafka://SERVERS/TOPIC`` |
| KinesisSource | ``kinesis`` | ``kinesis://REGION/STREAM`` |
| PushSource / RequestSource | ``push`` / ``request`` | ``push:NAME`` / ``request:NAME`` |
| any other (custom) | ``custom`` | a configured URL, else ``custom:TABLE-OR-PATH``, else ``custom:NAME`` |

A source defined by a query instead of a table gets ``KIND:query/NAME`` (an unnamed one,
``KIND:query/sha256-HASH`` of its query) and keeps the query text in ``extra["query"]``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from featmesh.connector.model import SourceRef
from featmesh.connector.sources.common import infer_source_kind
from featmesh.connector.sources.feast.names import SOURCE_TYPES


def source_ref(ds: Any, columns: Iterable[str] = ()) -> SourceRef:
    """The SourceRef of one Feast DataSource message; ``columns`` are the columns the
    feature set reads (named as the feature set names them; field mapping applied)."""
    kind, uri, fmt, extra = _locate(ds)
    inverse = {feature: column for column, feature in _entries(ds.field_mapping).items()}
    used = [inverse.get(c, c) for c in columns]
    if ds.timestamp_field:
        used.append(ds.timestamp_field)
    if kind == "request":
        used = [f.name for f in ds.request_data_options.schema] + [
            e.key for e in ds.request_data_options.deprecated_schema
        ]
    return SourceRef(
        kind=kind,
        uri=uri,
        name=ds.name or None,
        format=fmt,
        columns=tuple(dict.fromkeys(used)),
        timestamp_field=ds.timestamp_field or None,
        extra={**_common_extra(ds), **extra},
    )


def _locate(ds: Any) -> tuple[str, str, str | None, dict[str, Any]]:
    if ds.HasField("file_options"):
        options = ds.file_options
        fmt = _oneof(options.file_format, ("parquet_format", "delta_format"))
        fmt = fmt.removesuffix("_format") if fmt else None
        return _path_kind(options.uri, fmt), options.uri, fmt, {}
    for field, kind in (
        ("bigquery_options", "bigquery"),
        ("snowflake_options", "snowflake"),
        ("redshift_options", "redshift"),
        ("trino_options", "trino"),
        ("athena_options", "athena"),
    ):
        if ds.HasField(field):
            return _table_source(ds, getattr(ds, field), kind)
    if ds.HasField("spark_options"):
        return _spark(ds)
    if ds.HasField("kafka_options"):
        options = ds.kafka_options
        uri = f"kafka://{options.kafka_bootstrap_servers}/{options.topic}"
        extra = {}
        if options.HasField("watermark_delay_threshold"):
            extra["watermark_delay_seconds"] = options.watermark_delay_threshold.seconds
        return "kafka", uri, _stream_format(options.message_format), extra
    if ds.HasField("kinesis_options"):
        options = ds.kinesis_options
        uri = f"kinesis://{options.region}/{options.stream_name}"
        return "kinesis", uri, _stream_format(options.record_format), {}
    if ds.HasField("push_options") or SOURCE_TYPES.get(ds.type) == "PUSH_SOURCE":
        return "push", f"push:{ds.name}", None, {}
    if ds.HasField("request_data_options") or SOURCE_TYPES.get(ds.type) == "REQUEST_SOURCE":
        return "request", f"request:{ds.name}", None, {}
    return _custom(ds)


def _table_source(ds: Any, options: Any, kind: str) -> tuple[str, str, str | None, dict[str, Any]]:
    parts = [getattr(options, p, "") for p in ("data_source", "database", "schema")]
    if options.table:
        table = options.table
        qualified = ".".join([p for p in parts if p] + [table]) if "." not in table else table
        return kind, qualified, None, {}
    return kind, f"{kind}:query/{_query_label(ds.name, options.query)}", None, {"query": options.query}


def _spark(ds: Any) -> tuple[str, str, str | None, dict[str, Any]]:
    options = ds.spark_options
    fmt = options.file_format or None
    table_format = _oneof(
        options.table_format, ("iceberg_format", "delta_format", "hudi_format", "lance_format")
    )
    extra = {"table_format": table_format.removesuffix("_format")} if table_format else {}
    if options.path:
        return _path_kind(options.path, fmt), options.path, fmt, extra
    if options.table:
        kind = "delta" if table_format == "delta_format" else "table"
        return kind, options.table, fmt, extra
    label = _query_label(ds.name, options.query)
    return "spark", f"spark:query/{label}", fmt, {**extra, "query": options.query}


def _query_label(name: str, query: str) -> str:
    """What names a query source: its name, or for an unnamed one (older Feast, 0.12 for
    one, did not require names) the start of its query's SHA-256, so two never share one."""
    return name or "sha256-" + hashlib.sha256(query.encode("utf-8")).hexdigest()[:16]


def _path_kind(path: str, fmt: str | None) -> str:
    """A path's storage kind; a path without a scheme is a file even when it looks like
    ``schema.table`` (``trips_stats.parquet``)."""
    return infer_source_kind(path, fmt) if "://" in path else "file"


def _custom(ds: Any) -> tuple[str, str, str | None, dict[str, Any]]:
    extra: dict[str, Any] = {}
    uri = f"custom:{ds.name}"
    raw = ds.custom_options.configuration if ds.HasField("custom_options") else b""
    if raw:
        try:
            config = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            config = None
        if isinstance(config, dict):
            extra["configuration"] = config
            target = config.get("table") or config.get("path") or config.get("table_ref")
            if isinstance(target, str) and target:
                # a URL names its data anywhere; a bare table or path only within the
                # plugin's own store, so it stays ``custom:`` (qualified by the project)
                uri = target if "://" in target else f"custom:{target}"
    return "custom", uri, None, extra


def _common_extra(ds: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {"feast_source_type": SOURCE_TYPES.get(ds.type, str(ds.type))}
    if ds.data_source_class_type:
        extra["class"] = ds.data_source_class_type
    for field in ("description", "owner", "created_timestamp_column", "date_partition_column"):
        value = getattr(ds, field)
        if value:
            extra[field] = value
    for field in ("tags", "field_mapping"):
        entries = _entries(getattr(ds, field))
        if entries:
            extra[field] = entries
    if ds.HasField("batch_source"):
        extra["batch_source"] = ds.batch_source.name
    return extra


def _stream_format(message: Any) -> str | None:
    found = _oneof(message, ("avro_format", "json_format", "proto_format"))
    return found.removesuffix("_format") if found else None


def _oneof(message: Any, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if message.HasField(n)), None)


def _entries(entries: Any) -> dict[str, str]:
    return {e.key: e.value for e in entries}

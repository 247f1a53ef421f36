"""The subset of Feast's registry protobuf schema that featmesh reads, built at runtime.

Feast stores its registry as protobuf messages (``feast.core.Registry`` in a file, or
one message per row in the SQL registry). featmesh decodes them with the ``protobuf``
package and this schema of its own: only the fields the scanner maps are declared, by
the field numbers of Feast's public ``.proto`` files, and everything else on the wire
is skipped as unknown. Enums are declared as ``int32`` (same wire encoding) and named
by the tables in :mod:`connector.sources.feast.names`. Stored transformation code
(``dill`` pickles) is never declared, so it is never even decoded.

The descriptors are built with ``descriptor_pb2`` (no code generation step); the
package name ``featmesh.feast_subset`` keeps them apart from Feast's own classes if
both are loaded in one process.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PACKAGE = "featmesh.feast_subset"

_T = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "string": _T.TYPE_STRING,
    "bytes": _T.TYPE_BYTES,
    "bool": _T.TYPE_BOOL,
    "int32": _T.TYPE_INT32,
    "int64": _T.TYPE_INT64,
    "double": _T.TYPE_DOUBLE,
    "float": _T.TYPE_FLOAT,
}

# message -> [(number, name, type, repeated)]; a type not in _SCALARS names a message.
_FIELDS_OF: dict[str, list[tuple[int, str, str, bool]]] = {
    "StringEntry": [(1, "key", "string", False), (2, "value", "string", False)],
    "Duration": [(1, "seconds", "int64", False), (2, "nanos", "int32", False)],
    "Timestamp": [(1, "seconds", "int64", False), (2, "nanos", "int32", False)],
    "Registry": [
        (1, "entities", "Entity", True),
        (6, "feature_views", "FeatureView", True),
        (7, "feature_services", "FeatureService", True),
        (8, "on_demand_feature_views", "OnDemandFeatureView", True),
        (12, "data_sources", "DataSource", True),
        (11, "saved_datasets", "SavedDataset", True),
        (14, "stream_feature_views", "StreamFeatureView", True),
        (15, "project_metadata", "ProjectMetadata", True),
        (17, "projects", "Project", True),
        (3, "registry_schema_version", "string", False),
        (5, "last_updated", "Timestamp", False),
    ],
    "ProjectMetadata": [(1, "project", "string", False), (2, "project_uuid", "string", False)],
    "Project": [(1, "spec", "ProjectSpec", False)],
    "ProjectSpec": [
        (1, "name", "string", False),
        (2, "description", "string", False),
        (3, "tags", "StringEntry", True),
        (4, "owner", "string", False),
    ],
    "Entity": [(1, "spec", "EntitySpec", False)],
    "EntitySpec": [
        (1, "name", "string", False),
        (9, "project", "string", False),
        (2, "value_type", "int32", False),
        (3, "description", "string", False),
        (4, "join_key", "string", False),
        (8, "tags", "StringEntry", True),
        (10, "owner", "string", False),
    ],
    "FeatureSpec": [
        (1, "name", "string", False),
        (2, "value_type", "int32", False),
        (3, "tags", "StringEntry", True),
        (4, "description", "string", False),
        (5, "vector_index", "bool", False),
        (7, "vector_length", "int32", False),
    ],
    "FeatureView": [(1, "spec", "FeatureViewSpec", False)],
    "FeatureViewSpec": [
        (1, "name", "string", False),
        (2, "project", "string", False),
        (3, "entities", "string", True),
        (4, "features", "FeatureSpec", True),
        (5, "tags", "StringEntry", True),
        (6, "ttl", "Duration", False),
        (7, "batch_source", "DataSource", False),
        (8, "online", "bool", False),
        (9, "stream_source", "DataSource", False),
        (10, "description", "string", False),
        (11, "owner", "string", False),
        (12, "entity_columns", "FeatureSpec", True),
        (13, "offline", "bool", False),
        (15, "feature_transformation", "FeatureTransformation", False),
        (16, "mode", "string", False),
        (18, "version", "string", False),
    ],
    "StreamFeatureView": [(1, "spec", "StreamFeatureViewSpec", False)],
    "StreamFeatureViewSpec": [
        (1, "name", "string", False),
        (2, "project", "string", False),
        (3, "entities", "string", True),
        (4, "features", "FeatureSpec", True),
        (5, "entity_columns", "FeatureSpec", True),
        (6, "description", "string", False),
        (7, "tags", "StringEntry", True),
        (8, "owner", "string", False),
        (9, "ttl", "Duration", False),
        (10, "batch_source", "DataSource", False),
        (11, "stream_source", "DataSource", False),
        (12, "online", "bool", False),
        (13, "user_defined_function", "UserDefinedFunction", False),
        (14, "mode", "string", False),
        (15, "aggregations", "Aggregation", True),
        (16, "timestamp_field", "string", False),
        (17, "feature_transformation", "FeatureTransformation", False),
        (21, "version", "string", False),
    ],
    "Aggregation": [
        (1, "column", "string", False),
        (2, "function", "string", False),
        (3, "time_window", "Duration", False),
        (4, "slide_interval", "Duration", False),
        (5, "name", "string", False),
    ],
    "OnDemandFeatureView": [(1, "spec", "OnDemandFeatureViewSpec", False)],
    "OnDemandFeatureViewSpec": [
        (1, "name", "string", False),
        (2, "project", "string", False),
        (3, "features", "FeatureSpec", True),
        (4, "sources", "OnDemandSourceEntry", True),
        (5, "user_defined_function", "UserDefinedFunction", False),
        (6, "description", "string", False),
        (7, "tags", "StringEntry", True),
        (8, "owner", "string", False),
        (10, "feature_transformation", "FeatureTransformation", False),
        (11, "mode", "string", False),
        (12, "write_to_online_store", "bool", False),
        (13, "entities", "string", True),
        (14, "entity_columns", "FeatureSpec", True),
        (15, "singleton", "bool", False),
        (16, "aggregations", "Aggregation", True),
        (17, "version", "string", False),
    ],
    "OnDemandSourceEntry": [(1, "key", "string", False), (2, "value", "OnDemandSource", False)],
    "OnDemandSource": [
        (1, "feature_view", "FeatureView", False),
        (3, "feature_view_projection", "FeatureViewProjection", False),
        (2, "request_data_source", "DataSource", False),
    ],
    # body (2) is a dill pickle of the function: deliberately not declared.
    "UserDefinedFunction": [(1, "name", "string", False), (3, "body_text", "string", False)],
    "UserDefinedFunctionV2": [
        (1, "name", "string", False),
        (3, "body_text", "string", False),
        (4, "mode", "string", False),
    ],
    "FeatureTransformation": [(1, "user_defined_function", "UserDefinedFunctionV2", False)],
    "FeatureViewProjection": [
        (1, "feature_view_name", "string", False),
        (3, "feature_view_name_alias", "string", False),
        (2, "feature_columns", "FeatureSpec", True),
        (4, "join_key_map", "StringEntry", True),
        (11, "view_type", "string", False),
    ],
    "FeatureService": [(1, "spec", "FeatureServiceSpec", False)],
    "FeatureServiceSpec": [
        (1, "name", "string", False),
        (2, "project", "string", False),
        (3, "features", "FeatureViewProjection", True),
        (4, "tags", "StringEntry", True),
        (5, "description", "string", False),
        (6, "owner", "string", False),
    ],
    # feast/core/SavedDataset.proto: features are "<view>:<feature>" references.
    "SavedDataset": [(1, "spec", "SavedDatasetSpec", False)],
    "SavedDatasetSpec": [
        (1, "name", "string", False),
        (2, "project", "string", False),
        (3, "features", "string", True),
        (4, "join_keys", "string", True),
        (5, "full_feature_names", "bool", False),
        (6, "storage", "SavedDatasetStorage", False),
        (7, "tags", "StringEntry", True),
        (8, "feature_service_name", "string", False),
    ],
    "SavedDatasetStorage": [
        (4, "file_storage", "FileOptions", False),
        (5, "bigquery_storage", "TableOptions", False),
        (6, "redshift_storage", "WarehouseOptions", False),
        (7, "snowflake_storage", "WarehouseOptions", False),
    ],
    "DataSource": [
        (20, "name", "string", False),
        (21, "project", "string", False),
        (23, "description", "string", False),
        (24, "tags", "StringEntry", True),
        (25, "owner", "string", False),
        (1, "type", "int32", False),
        (2, "field_mapping", "StringEntry", True),
        (3, "timestamp_field", "string", False),
        (4, "date_partition_column", "string", False),
        (5, "created_timestamp_column", "string", False),
        (17, "data_source_class_type", "string", False),
        (26, "batch_source", "DataSource", False),
        (11, "file_options", "FileOptions", False),
        (12, "bigquery_options", "TableOptions", False),
        (13, "kafka_options", "KafkaOptions", False),
        (14, "kinesis_options", "KinesisOptions", False),
        (15, "redshift_options", "WarehouseOptions", False),
        (18, "request_data_options", "RequestDataOptions", False),
        (16, "custom_options", "CustomOptions", False),
        (19, "snowflake_options", "WarehouseOptions", False),
        (22, "push_options", "PushOptions", False),
        (27, "spark_options", "SparkOptions", False),
        (30, "trino_options", "TableOptions", False),
        (35, "athena_options", "AthenaOptions", False),
    ],
    "FileOptions": [
        (1, "file_format", "FileFormat", False),
        (2, "uri", "string", False),
        (3, "s3_endpoint_override", "string", False),
    ],
    "FileFormat": [(1, "parquet_format", "Empty", False), (2, "delta_format", "Empty", False)],
    "TableFormat": [
        (1, "iceberg_format", "Empty", False),
        (2, "delta_format", "Empty", False),
        (3, "hudi_format", "Empty", False),
        (4, "lance_format", "Empty", False),
    ],
    "StreamFormat": [
        (1, "avro_format", "Empty", False),
        (2, "proto_format", "Empty", False),
        (3, "json_format", "Empty", False),
    ],
    "Empty": [],
    "TableOptions": [(1, "table", "string", False), (2, "query", "string", False)],
    "WarehouseOptions": [
        (1, "table", "string", False),
        (2, "query", "string", False),
        (3, "schema", "string", False),
        (4, "database", "string", False),
    ],
    "AthenaOptions": [
        (1, "table", "string", False),
        (2, "query", "string", False),
        (3, "database", "string", False),
        (4, "data_source", "string", False),
    ],
    "SparkOptions": [
        (1, "table", "string", False),
        (2, "query", "string", False),
        (3, "path", "string", False),
        (4, "file_format", "string", False),
        (6, "table_format", "TableFormat", False),
    ],
    "KafkaOptions": [
        (1, "kafka_bootstrap_servers", "string", False),
        (2, "topic", "string", False),
        (3, "message_format", "StreamFormat", False),
        (4, "watermark_delay_threshold", "Duration", False),
    ],
    "KinesisOptions": [
        (1, "region", "string", False),
        (2, "stream_name", "string", False),
        (3, "record_format", "StreamFormat", False),
    ],
    "RequestDataOptions": [
        (2, "deprecated_schema", "RequestSchemaEntry", True),
        (3, "schema", "FeatureSpec", True),
    ],
    "RequestSchemaEntry": [(1, "key", "string", False), (2, "value", "int32", False)],
    "CustomOptions": [(1, "configuration", "bytes", False)],
    "PushOptions": [],
}

# Each top-level row kind of the SQL registry and the message its blob holds.
SQL_TABLES = {
    "projects": ("project_proto", "Project"),
    "entities": ("entity_proto", "Entity"),
    "data_sources": ("data_source_proto", "DataSource"),
    "feature_views": ("feature_view_proto", "FeatureView"),
    "stream_feature_views": ("feature_view_proto", "StreamFeatureView"),
    "on_demand_feature_views": ("feature_view_proto", "OnDemandFeatureView"),
    "feature_services": ("feature_service_proto", "FeatureService"),
    "saved_datasets": ("saved_dataset_proto", "SavedDataset"),
}


def _file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto(
        name="featmesh_feast_subset.proto", package=PACKAGE, syntax="proto3"
    )
    for message, fields in _FIELDS_OF.items():
        out = proto.message_type.add(name=message)
        for number, name, kind, repeated in fields:
            field = out.field.add(
                name=name,
                number=number,
                label=_T.LABEL_REPEATED if repeated else _T.LABEL_OPTIONAL,
            )
            if kind in _SCALARS:
                field.type = _SCALARS[kind]
            else:
                field.type = _T.TYPE_MESSAGE
                field.type_name = f".{PACKAGE}.{kind}"
    return proto


@cache
def _classes() -> dict[str, Any]:
    pool = descriptor_pool.DescriptorPool()
    file = pool.Add(_file_descriptor())
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}"))
        for name in file.message_types_by_name
    }


def message_class(name: str) -> Any:
    """The generated class of one message of the subset (``Registry``, ``FeatureView``...)."""
    return _classes()[name]

"""Names of the Feast enums the registry stores as numbers, and their featmesh dtypes."""

from __future__ import annotations

from featmesh.connector.model import normalize_dtype

VALUE_TYPES = {
    0: "INVALID",
    1: "BYTES",
    2: "STRING",
    3: "INT32",
    4: "INT64",
    5: "DOUBLE",
    6: "FLOAT",
    7: "BOOL",
    8: "UNIX_TIMESTAMP",
    11: "BYTES_LIST",
    12: "STRING_LIST",
    13: "INT32_LIST",
    14: "INT64_LIST",
    15: "DOUBLE_LIST",
    16: "FLOAT_LIST",
    17: "BOOL_LIST",
    18: "UNIX_TIMESTAMP_LIST",
    19: "NULL",
    20: "MAP",
    21: "MAP_LIST",
    22: "BYTES_SET",
    23: "STRING_SET",
    24: "INT32_SET",
    25: "INT64_SET",
    26: "DOUBLE_SET",
    27: "FLOAT_SET",
    28: "BOOL_SET",
    29: "UNIX_TIMESTAMP_SET",
    32: "JSON",
    33: "JSON_LIST",
    34: "STRUCT",
    35: "STRUCT_LIST",
    36: "UUID",
    37: "TIME_UUID",
    38: "UUID_LIST",
    39: "TIME_UUID_LIST",
    40: "UUID_SET",
    41: "TIME_UUID_SET",
    42: "VALUE_LIST",
    43: "VALUE_SET",
    44: "DECIMAL",
    45: "DECIMAL_LIST",
    46: "DECIMAL_SET",
    47: "SCALAR_MAP",
    48: "ZONED_TIMESTAMP",
}

SOURCE_TYPES = {
    0: "INVALID",
    1: "BATCH_FILE",
    2: "BATCH_BIGQUERY",
    3: "STREAM_KAFKA",
    4: "STREAM_KINESIS",
    5: "BATCH_REDSHIFT",
    6: "CUSTOM_SOURCE",
    7: "REQUEST_SOURCE",
    8: "BATCH_SNOWFLAKE",
    9: "PUSH_SOURCE",
    10: "BATCH_TRINO",
    11: "BATCH_SPARK",
    12: "BATCH_ATHENA",
    13: "BATCH_ICEBERG",
}

# Feast value types whose featmesh dtype normalize_dtype cannot tell from the name.
_SCALAR_OVERRIDES = {
    "UUID": "string",
    "TIME_UUID": "string",
    "JSON": "string",
    "ZONED_TIMESTAMP": "timestamp",
    "SCALAR_MAP": "map",
}


def value_type_name(number: int) -> str | None:
    """``4`` -> ``"INT64"``; None for an unset type (old registries leave it 0)."""
    if number == 0:
        return None
    return VALUE_TYPES.get(number, f"VALUE_TYPE_{number}")


def feast_dtype(name: str | None) -> str:
    """The featmesh dtype of a Feast value type name (``FLOAT_LIST`` -> ``array<float32>``).

    Sets are arrays whose items are unique, so they map to ``array<T>`` as well.
    """
    if name is None:
        return "unknown"
    base, _, container = name.rpartition("_")
    if container in ("LIST", "SET") and base:
        inner = feast_dtype(base)
        return f"array<{inner}>" if not inner.startswith(("array", "map", "struct")) else "array<unknown>"
    if name in _SCALAR_OVERRIDES:
        return _SCALAR_OVERRIDES[name]
    return normalize_dtype(name)

import datetime as dt
import enum
from dataclasses import replace
from types import MappingProxyType

import pytest

from featmesh.connector.model import (
    Feature,
    FeatureSet,
    FeatureSetRef,
    KeyColumn,
    Origin,
    is_known_dtype,
    newest_version,
    normalize_dtype,
    parse_feature_set_qn,
    stable_hash,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("BIGINT", "int64"),
        ("long", "int64"),
        ("INT32", "int32"),
        ("double", "float64"),
        ("Float", "float32"),
        ("decimal(10,2)", "decimal"),
        ("varchar(255)", "string"),
        ("array<double>", "array<float64>"),
        ("FLOAT_LIST", "array<float32>"),
        ("map<string,int>", "map"),
        ("struct<a:int>", "struct"),
        ("UNIX_TIMESTAMP", "timestamp"),
        ("Integral", "int64"),
        ("geography", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_normalize_dtype(raw, expected):
    assert normalize_dtype(raw) == expected


def test_known_dtypes():
    assert is_known_dtype("array<int64>")
    assert not is_known_dtype("array<unknown>")
    assert not is_known_dtype("unknown")


def _fs(**changes):
    base = FeatureSet(
        store_kind="manifest",
        store="payments",
        name="txn",
        version="2",
        tags={"a": "1", "b": "2"},
        features=(Feature(name="f", dtype="int64"),),
    )
    return replace(base, **changes)


def test_content_hash_ignores_tag_order_origin_and_domain():
    one = _fs()
    two = _fs(
        tags={"b": "2", "a": "1"},
        origin=Origin(path="x.yaml", line=3),
        domain="payments",
        domain_rule="store",
    )
    assert one.content_hash == two.content_hash


def test_hashes_never_read_the_origin_line():
    """A reader places a definition only where a message needs it: hashing must not ask."""

    def unplaced() -> int:
        raise AssertionError("the hash read the origin's line")

    fs = _fs(origin=Origin.deferred(path="x.yaml", line=unplaced, pointer="feature_sets[0]"))
    assert fs.content_hash == _fs().content_hash


def test_hashes_keep_their_published_values():
    """Values earlier featmesh versions published: a change here re-publishes every set."""
    one = _fs()
    assert one.content_hash == "5651c5ab04acab8853c4ad6dc4f3705659aa9eae6267fc915de642058f9412f1"
    assert one.revision_hash == one.content_hash
    read = _fs(consumers=("churn-model",), join_keys=(KeyColumn(name="customer_id", dtype="int64"),))
    assert read.content_hash == "dc4b54beb3825f5952de3093601d51f8726c00ee8da7bf6f02f3851c56eacd98"
    assert read.revision_hash == "d868ef7cdd6cb4656443a577dab9a823e303d04b1b9ce0a83413f5bc9fcfb8bb"


class _Tier(enum.Enum):
    GOLD = "gold"


@pytest.mark.parametrize(
    "changes",
    [
        {"description": "caf\u00e9 \U0001f600"},  # past ASCII: json.dumps escapes it
        {"description": "delete\x7f"},  # DEL, which json.dumps escapes too
        {"description": 'quote " backslash \\ tab \t bell \x07'},
        {"extra": {"weight": 1e16}},  # written 1e+16 by json.dumps, 1e16 by msgspec
        {"extra": {"weight": 1e-05}},
        {"extra": {"weight": float("nan")}},
        {"extra": {"weight": 0.5, "big": -(2**100)}},
        {"extra": {"tier": _Tier.GOLD}},  # an enum: json.dumps writes str() of it
        {"extra": {"when": dt.datetime(2026, 1, 2, 3, 4, 5)}},
        {"extra": {"nested": ({"a": [1, 2.5, None, True]}, "x")}},
        {"ttl_seconds": 86400},
        {"features": (Feature(name="f", tags={"scale": 1e20}),)},  # each feature is looked at
        {"features": (Feature(name="f", tags={"tier": _Tier.GOLD}),)},
        {"features": (Feature(name="f", tags=MappingProxyType({"b": "1", "a": "2"})),)},
        {"features": (Feature(name="f", extra={"seen": dt.date(2026, 1, 2)}),)},
        {"features": (Feature(name="f", source_columns=("a", 1.5e-9)),)},
        {"features": (Feature(name="f", description="na\u00efve"), Feature(name="g", transformation="x"))},
    ],
    ids=lambda c: next(iter(c)) + ":" + repr(next(iter(c.values())))[:24],
)
def test_the_fast_hash_is_the_json_dumps_hash(changes):
    """A definition is hashed from msgspec's text where it is the text ``json.dumps``
    writes, and the general way where it might not be: the hash is the same either way."""
    fs = _fs(**changes)
    assert fs.content_hash == stable_hash(fs._definition())


def test_content_hash_changes_with_definition():
    one = _fs()
    assert one.content_hash != _fs(features=(Feature(name="f", dtype="int32"),)).content_hash
    assert one.content_hash != _fs(description="new").content_hash
    assert len(one.content_hash) == 64


def test_qualified_names_round_trip():
    fs = _fs()
    assert fs.qualified_name == "featmesh://manifest/payments/txn@2"
    assert fs.feature_qn("f") == "featmesh://manifest/payments/txn@2#f"
    assert parse_feature_set_qn(fs.qualified_name) == FeatureSetRef(
        store_kind="manifest", store="payments", name="txn", version="2"
    )
    assert _fs(version=None).qualified_name.endswith("@latest")
    assert parse_feature_set_qn("featmesh://manifest/payments/txn@latest").version is None
    assert parse_feature_set_qn("https://x/y") is None


def test_newest_version():
    assert newest_version(["1", "10", "2"]) == "10"
    assert newest_version([None, "1"]) == "1"


@pytest.mark.parametrize(
    ("uri", "fmt", "kind"),
    [
        ("abfss://raw@acct.dfs.core.windows.net/x/", None, "adls"),
        ("https://acct.blob.core.windows.net/c/x.parquet", None, "blob"),
        ("s3a://bucket/x/", None, "s3"),
        ("main.payments.card_transactions", "delta", "delta"),
        ("main.payments.card_transactions", None, "table"),
        ("trips_stats.parquet", None, "file"),
        ("data/driver_stats.csv", None, "file"),
        ("jdbc:snowflake://acct.snowflakecomputing.com/?db=x", None, "jdbc"),
    ],
)
def test_infer_source_kind(uri, fmt, kind):
    from featmesh.connector.sources.common import infer_source_kind

    assert infer_source_kind(uri, fmt) == kind


def test_separators_in_names_are_encoded_and_round_trip():
    fs = _fs(store="pay ments", name="merchant@stats #1/x", version="2")
    assert fs.qualified_name == "featmesh://manifest/pay%20ments/merchant%40stats%20%231%2Fx@2"
    assert fs.feature_qn("a#b") == fs.qualified_name + "#a%23b"
    ref = parse_feature_set_qn(fs.qualified_name)
    assert ref is not None and (ref.store, ref.name, ref.version) == ("pay ments", "merchant@stats #1/x", "2")


class _CountedKeys:
    """Key lines that count their lookups (a reader's lazy ``line``)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def line(self, name: str) -> int | tuple[str, int] | None:
        self.asked.append(name)
        return {"owner": 7, "features.f": ("other.yaml", 3)}.get(name)

    def __iter__(self):
        return iter(())

    def __bool__(self) -> bool:
        return True


def test_a_moved_origin_is_placed_when_first_read():
    keys = _CountedKeys()
    origin = Origin(path="x.yaml", line=2, pointer="feature_sets[0]", keys=keys)
    owner, feature, nowhere = (
        origin.at("owner"),
        origin.at("features.f.dtype", "features.f"),
        origin.at("ttl"),
    )
    assert keys.asked == []  # a finding no report shows is never placed
    assert (owner.path, owner.line, owner.pointer) == ("x.yaml", 7, "owner")
    assert str(feature) == "other.yaml:3 (features.f)"
    assert nowhere == origin and nowhere.keys is keys
    assert keys.asked == ["owner", "features.f.dtype", "features.f", "ttl"]
    assert owner.line == 7 and keys.asked.count("owner") == 1


def test_make_feature_builds_the_same_feature_as_the_dataclass() -> None:
    from featmesh.connector.model import Feature, make_feature

    args = ("amount_sum_7d", "float64", "double", "Sum of amounts.", {"pii": "false"}, ("amount",), "sum")
    built = make_feature(*args)
    plain = Feature(
        name=args[0],
        dtype=args[1],
        raw_type=args[2],
        description=args[3],
        tags=args[4],
        source_columns=args[5],
        transformation=args[6],
    )
    assert built == plain and repr(built) == repr(plain)
    assert built.extra == {} and built.extra is not make_feature(*args).extra
    with pytest.raises(AttributeError):
        built.name = "other"  # type: ignore[misc]

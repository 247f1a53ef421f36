"""Small builders for feature sets and profiles in policy tests."""

from __future__ import annotations

from typing import Any

from featmesh.connector.model import (
    ColumnProfile,
    DatasetProfile,
    Feature,
    FeatureSet,
    FeatureSetRef,
    KeyColumn,
    Origin,
    PiiMatch,
    SourceRef,
)


def feature(name: str, dtype: str = "int64", **kw: Any) -> Feature:
    kw.setdefault("description", f"A well described feature called {name}.")
    return Feature(name=name, dtype=dtype, **kw)


def good_set(name: str = "card_txn_7d", **kw: Any) -> FeatureSet:
    """A feature set that passes every mesh-baseline rule (without a profile)."""
    values: dict[str, Any] = {
        "store_kind": "manifest",
        "store": "payments",
        "name": name,
        "version": "1",
        "domain": "payments",
        "domain_rule": "declared",
        "owner": "payments-ml@contoso.com",
        "description": "Card transactions per customer over the last seven days.",
        "tags": {"tier": "gold"},
        "entities": ("customer",),
        "join_keys": (KeyColumn(name="customer_id", dtype="string"),),
        "timestamp_field": "event_ts",
        "ttl_seconds": 86400,
        "features": (feature("txn_count_7d"), feature("txn_amount_7d", "float64")),
        "sources": (SourceRef(kind="delta", uri="main.payments.card_txn", columns=("amount",)),),
        "origin": Origin(path="features/payments.yaml", line=12, pointer="feature_sets[0]"),
    }
    values.update(kw)
    return FeatureSet(**values)


def from_case(data: dict[str, Any]) -> FeatureSet:
    """A set from a test case: the good set with the case's fields over it."""
    data = dict(data)
    if "features" in data:
        data["features"] = tuple(feature(**f) for f in data["features"])
    if "join_keys" in data:
        data["join_keys"] = tuple(KeyColumn(**k) for k in data["join_keys"])
    if "sources" in data:
        data["sources"] = tuple(
            SourceRef(**{**s, "columns": tuple(s.get("columns", ()))}) for s in data["sources"]
        )
    if "derived_from" in data:
        data["derived_from"] = tuple(FeatureSetRef(**r) for r in data["derived_from"])
    return good_set(**data)


def profile(fs: FeatureSet, columns: list[dict[str, Any]], **kw: Any) -> DatasetProfile:
    cols = []
    for c in columns:
        c = dict(c)
        c.setdefault("dtype", "int64")
        c.setdefault("row_count", 1000)
        c.setdefault("null_count", 0)
        c["pii"] = tuple(PiiMatch(**m) for m in c.get("pii", ()))
        cols.append(ColumnProfile(**c))
    kw.setdefault("row_count", 1000)
    kw.setdefault("profiled_at", "2026-01-01T00:00:00Z")
    return DatasetProfile(uri=fs.qualified_name, columns=tuple(cols), **kw)

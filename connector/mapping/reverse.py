"""Atlas JSON -> the neutral model: the feature sets a catalog holds.

Used where a command needs the published mesh (``featmesh check --catalog``: the
mesh-wide rules compare a domain's sets with every other domain's). It rebuilds
what featmesh itself wrote; raw store fields (``extra``) are not kept in a catalog.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from featmesh.connector.model import (
    Consumer,
    ConsumerRead,
    Feature,
    FeatureSet,
    KeyColumn,
    SourceRef,
    make_feature,
    parse_feature_set_qn,
)
from featmesh.connector.sources.common import infer_source_kind

SET_ATTRIBUTES = (
    "qualifiedName",
    "domain",
    "domainRule",
    "owner",
    "description",
    "tags",
    "joinKeys",
    "timestampField",
    "ttlSeconds",
    "sourceUris",
    "derivedFrom",
    "consumers",
    "contentHash",
)
"""The attributes of a feature set entity that :func:`feature_set_from_attributes` reads."""
FEATURE_ATTRIBUTES = ("name", "dataType", "rawType", "description", "tags", "sourceColumns", "transformation")
"""The attributes of a feature entity that :func:`feature_set_from_attributes` reads."""


def feature_sets_from_entities(
    sets: Iterable[Mapping[str, Any]], features: Iterable[Mapping[str, Any]]
) -> list[FeatureSet]:
    by_set: dict[str, list[Mapping[str, Any]]] = {}
    for feature in features:
        qn = feature["attributes"]["qualifiedName"]
        by_set.setdefault(qn.split("#", 1)[0], []).append(feature["attributes"])
    out = []
    for entity in sets:
        attrs = entity["attributes"]
        fs = feature_set_from_attributes(attrs, by_set.get(attrs["qualifiedName"], []))
        if fs is not None:
            out.append(fs)
    return out


def feature_set_from_attributes(
    attrs: Mapping[str, Any], features: Iterable[Mapping[str, Any]]
) -> FeatureSet | None:
    """One published set from its entity's attributes and its features' (None when the
    qualifiedName is not a feature set's)."""
    members = sorted(features, key=lambda f: f["name"])
    return _feature_set(attrs, tuple(_feature(f) for f in members))


def _feature_set(attrs: Mapping[str, Any], features: tuple[Feature, ...]) -> FeatureSet | None:
    ref = parse_feature_set_qn(attrs["qualifiedName"])
    if ref is None:
        return None
    return FeatureSet(
        store_kind=ref.store_kind,
        store=ref.store,
        name=ref.name,
        version=ref.version,
        domain=attrs.get("domain"),
        domain_rule=attrs.get("domainRule"),
        owner=attrs.get("owner"),
        description=attrs.get("description") or "",
        tags=dict(attrs.get("tags") or {}),
        join_keys=tuple(_key(k) for k in attrs.get("joinKeys") or ()),
        timestamp_field=attrs.get("timestampField"),
        ttl_seconds=attrs.get("ttlSeconds"),
        features=features,
        sources=tuple(
            SourceRef(kind=infer_source_kind(uri), uri=uri) for uri in attrs.get("sourceUris") or ()
        ),
        derived_from=tuple(r for r in (parse_feature_set_qn(q) for q in attrs.get("derivedFrom") or ()) if r),
        consumers=tuple(attrs.get("consumers") or ()),
        extra={"published_content_hash": attrs.get("contentHash")},
    )


# ---------------------------------------------------------------- the published-sets index
#
# One JSON document a published set: ``set``, the set entity's attributes that
# :func:`feature_set_from_attributes` reads, and ``members``, its features sorted by name,
# each under the model's own field names with its defaults left out. Read back, the
# members decode straight into :class:`Feature` objects (msgspec, in C): reading the rest
# of a mesh of 10,000 sets for a ``check`` builds 400,000 of them. A row written before the
# members had the model's names holds ``features`` (entity attributes) instead, and is
# read the slower way, as it was written.


def index_document(
    qn: str, attrs: Mapping[str, Any], features: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The index document of the set ``qn`` from its entity's attributes and its features'."""
    return {
        "set": {k: attrs[k] for k in SET_ATTRIBUTES if k in attrs} | {"qualifiedName": qn},
        "members": [_member(f) for f in sorted(features, key=lambda f: f["name"])],
    }


def _member(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """A feature's attributes as :func:`_feature` reads them, under Feature's field names,
    a field at its default left out."""
    feature = _feature(attrs)
    out: dict[str, Any] = {"name": feature.name}
    for name in _MEMBER_NAMES[1:]:
        value = getattr(feature, name)
        if value != getattr(_BLANK, name):
            out[name] = value
    return out


class _Indexed(msgspec.Struct):
    set: dict[str, Any]
    members: list[Feature]


_INDEXED = msgspec.json.Decoder(_Indexed)


def feature_set_from_index(body: str | bytes) -> FeatureSet | None:
    """The published set an index document holds (None when its qualifiedName is not a
    feature set's)."""
    try:
        doc = _INDEXED.decode(body)
    except msgspec.DecodeError:  # an earlier row, a value of another type than the model's, a NaN
        plain = json.loads(body)
        if "members" not in plain:
            return feature_set_from_attributes(plain["set"], plain["features"])
        return _feature_set(plain["set"], tuple(_feature(m, _MEMBER_NAMES) for m in plain["members"]))
    return _feature_set(doc.set, tuple(doc.members))


_MEMBER_NAMES = ("name", "dtype", "raw_type", "description", "tags", "source_columns", "transformation")
""":data:`FEATURE_ATTRIBUTES` as an index member names them (Feature's field names)."""
_BLANK = Feature(name="")
"""Each field at its default: what a member leaves out."""


def _key(text: str) -> KeyColumn:
    name, _, dtype = text.rpartition(":")
    return KeyColumn(name=name or text, dtype=dtype if name else "unknown")


def _feature(attrs: Mapping[str, Any], names: tuple[str, ...] = FEATURE_ATTRIBUTES) -> Feature:
    """A feature from its attributes, named as ``names`` lists them (FEATURE_ATTRIBUTES' order)."""
    _, dtype, raw_type, description, tags, columns, transformation = (attrs.get(k) for k in names)
    return make_feature(
        attrs[names[0]],
        dtype or "unknown",
        raw_type,
        description or "",
        dict(tags or {}),
        tuple(columns or ()),
        transformation,
    )


def consumers_from_entities(models: Iterable[Mapping[str, Any]]) -> list[Consumer]:
    """The consumers (``featmesh_model`` entities) a catalog holds, with the features each
    reads and the revision it was trained on, rebuilt from their ``featureSets``,
    ``features`` and ``featureSetRevisions`` attributes."""
    out = []
    for entity in models:
        attrs = entity.get("attributes") or {}
        by_set: dict[str, list[str]] = {q: [] for q in attrs.get("featureSets") or ()}
        revisions = attrs.get("featureSetRevisions") or {}
        for feature in attrs.get("features") or ():
            set_qn, _, name = str(feature).partition("#")
            by_set.setdefault(set_qn, []).append(name)
        reads = []
        for set_qn, names in by_set.items():
            ref = parse_feature_set_qn(set_qn)
            if ref is not None:
                revision = revisions.get(set_qn)
                reads.append(
                    ConsumerRead(
                        feature_set=ref, features=tuple(names), revision=str(revision) if revision else None
                    )
                )
        out.append(
            Consumer(
                kind=attrs.get("consumerKind") or "model",
                name=attrs.get("name") or attrs.get("qualifiedName", ""),
                version=attrs.get("version"),
                owner=attrs.get("owner"),
                domain=attrs.get("domain"),
                registered_at=attrs.get("registeredAt"),
                reads=tuple(reads),
            )
        )
    return out

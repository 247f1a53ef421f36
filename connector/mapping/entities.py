"""The neutral model -> Atlas entities (pyapacheatlas's entity classes), lineage included.

``map_mesh`` returns the desired state of the catalog for the stores read: every
entity as Atlas JSON without guids, references written by ``uniqueAttributes`` so
that the desired state compares with what a catalog holds whatever guids it gave.
Entities come in dependency order (stores, join-key entities, data products and the
columns of placeholders, feature sets, features, models, lineage processes), so a
writer can send them as they come.

Every ``columnMapping`` names columns that exist on both ends, as Purview needs to draw
column-level lineage: a feature set's schema is its features; a placeholder's is the
``featmesh_column`` entities featmesh gives it, one per column its readers' lineage
reads; a real data product a mapping rule resolves is checked against the schema the
catalog holds for it (``Columns``), and pairs naming a column it lacks are left out and
reported. A consumer (a model) has no schema: its consumption pipeline names the
features it reads in ``readsFeatures`` instead of a column mapping.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featmesh.connector import progress
from featmesh.connector.mapping.business import verdict_metadata
from featmesh.connector.mapping.rules import DEFAULT_RULES, MappingRule, resolve

if TYPE_CHECKING:
    from pyapacheatlas.core import AtlasEntity

from featmesh.connector.model import (
    Consumer,
    Feature,
    FeatureSet,
    FeatureStore,
    SourceRef,
    consumer_qn,
    entity_qn,
    stable_hash,
    store_qn,
)

STORE = "featmesh_feature_store"
FEATURE_SET = "featmesh_feature_set"
FEATURE = "featmesh_feature"
ENTITY = "featmesh_entity"
DATA_PRODUCT = "featmesh_data_product"
PIPELINE = "featmesh_feature_pipeline"
MODEL = "featmesh_model"
COLUMN = "featmesh_column"
FEATMESH_TYPES = (STORE, FEATURE_SET, FEATURE, ENTITY, DATA_PRODUCT, COLUMN, PIPELINE, MODEL)

Exists = Callable[[str, str], bool]
"""``exists(typeName, qualifiedName)``: does the catalog hold that entity?"""
Columns = Callable[[str, str], "frozenset[str] | None"]
"""``columns(typeName, qualifiedName)``: the column names of the schema the catalog shows
for an entity it holds (empty: it shows none), or None when it cannot tell."""

EntityJson = dict[str, Any]


def ref(type_name: str, qualified_name: str) -> dict[str, Any]:
    """A reference to an entity by its unique attribute, as Atlas accepts it."""
    return {"typeName": type_name, "uniqueAttributes": {"qualifiedName": qualified_name}}


@dataclass
class MeshMapping:
    """The desired catalog state for a set of stores."""

    entities: list[EntityJson] = field(default_factory=list)
    lineage_edges: int = 0
    external_sources: list[tuple[str, str]] = field(default_factory=list)
    """(typeName, qualifiedName) of existing catalog entities used as sources."""
    unmapped_columns: list[str] = field(default_factory=list)
    """Why column pairs were left out of a columnMapping (a real product lacks the column)."""
    digests: dict[str, str] = field(default_factory=dict)
    """Each set's mapping digest: a hash of everything its entities are made from, so that
    equal digests mean equal entities (:func:`_mapping_digest`)."""
    kept: list[tuple[str, str]] = field(default_factory=list)
    """The keys of the entities of sets not mapped again (``map_mesh(unchanged=...)``): the
    catalog holds them as they would be mapped; the plan counts them unchanged."""

    def keys(self) -> list[tuple[str, str]]:
        """The desired keys, and the placeholders they supersede (for the plan to find)."""
        return [
            *((e["typeName"], e["attributes"]["qualifiedName"]) for e in self.entities),
            *superseded_placeholders(self.entities),
        ]

    def count(self, type_name: str) -> int:
        return sum(1 for e in self.entities if e["typeName"] == type_name)


def map_mesh(
    stores: Sequence[FeatureStore],
    *,
    rules: Iterable[MappingRule] = DEFAULT_RULES,
    exists: Exists | None = None,
    classifications: Mapping[str, list[dict[str, Any]]] | None = None,
    feature_attributes: Mapping[str, Mapping[str, Any]] | None = None,
    revisions: Mapping[str, Mapping[str, Any]] | None = None,
    columns: Columns | None = None,
    unchanged: Mapping[str, str] | None = None,
    held: Container[tuple[str, str]] | None = None,
) -> MeshMapping:
    """Map stores to Atlas entities.

    ``classifications`` maps a qualifiedName to the featmesh classifications it
    should carry (a verdict also becomes the entity's ``featmesh`` business metadata);
    ``feature_attributes`` adds attributes to features by qualifiedName (profiles).
    ``exists`` lets sources resolve to entities the catalog already holds, and
    ``columns`` says which columns those show (None: mappings to them are not checked).
    ``revisions`` gives each set's revision as the run history knows it (when and in
    which run it was first seen, the revisions before it: a run record's ``revision``).

    ``unchanged`` gives, for sets whose entities the catalog holds as the last scan wrote
    them (and nothing has written since), the :attr:`MeshMapping.digests` that scan
    recorded: a set whose digest is the same, with every entity in ``held`` and no
    classification to set, is not mapped again; its keys go to :attr:`MeshMapping.kept`.
    """
    rules = tuple(rules)
    out = MeshMapping()
    products: dict[str, _Product] = {}
    sets: list[FeatureSet] = [fs for store in stores for fs in store.feature_sets]
    out.entities.extend(_store(store) for store in stores)
    out.entities.extend(_entity(store, e) for store in stores for e in store.entities)
    for fs in sets:
        for source in fs.sources:
            _product(products, source, fs, rules, exists)
    read = _columns_read(sets, products)
    for product in products.values():
        if product.existing:
            out.external_sources.append((product.type_name, product.qualified_name))
        else:
            out.entities.append(product.placeholder())
    for product in products.values():
        if not product.existing:
            out.entities.extend(_column(product, name) for name in read.get(product.qualified_name, ()))
    schemas = _real_schemas(products, columns)
    features: list[EntityJson] = []
    processes: list[EntityJson] = []
    extra_attrs = feature_attributes or {}
    by_qn = {fs.qualified_name: fs for fs in sets} if any(fs.derived_from for fs in sets) else {}
    held = held if held is not None else ()
    bar = progress.meter(f"mapping {len(sets)} feature sets to catalog entities", len(sets), "sets")
    for fs in sets:
        qn = fs.qualified_name
        revision = (revisions or {}).get(qn)
        inputs = [products[_product_key(s)] for s in fs.sources]
        if fs.sources:
            out.lineage_edges += len({p.qualified_name for p in inputs})
        if fs.derived_from:
            out.lineage_edges += len(fs.derived_from)
        digest = _mapping_digest(fs, revision, inputs, schemas, by_qn, extra_attrs)
        out.digests[qn] = digest
        keys = set_keys(fs) if unchanged and unchanged.get(qn) == digest else None
        if keys and _as_held(keys, classifications, held):
            out.kept.extend(keys)
            if any(schemas.get(p.qualified_name) is not None for p in inputs):
                _source_pipeline(fs, inputs, schemas, out.unmapped_columns)  # what it says of them
            bar.advance()
            continue
        out.entities.append(_feature_set(fs, revision))
        features.extend(_feature(fs, f, extra_attrs.get(fs.feature_qn(f.name))) for f in fs.features)
        if fs.sources:
            processes.append(_source_pipeline(fs, inputs, schemas, out.unmapped_columns))
        if fs.derived_from:
            processes.append(_derivation_pipeline(fs, by_qn))
        bar.advance()
    bar.close()
    out.entities.extend(features)
    known = {fs.qualified_name for fs in sets}
    for store in stores:
        for consumer in store.consumers:
            model, process = _consumer(store, consumer, rules, exists, known)
            if model is None:
                out.external_sources.append(
                    (process["attributes"]["outputs"][0]["typeName"], _out_qn(process))
                )
            else:
                out.entities.append(model)
            if process["attributes"].get("inputs"):
                processes.append(process)
                out.lineage_edges += len(process["attributes"]["inputs"])
    out.entities.extend(processes)
    if classifications:
        for entity in out.entities:
            found = classifications.get(entity["attributes"]["qualifiedName"])
            if found:
                entity["classifications"] = sorted(found, key=lambda c: c["typeName"])
                business = verdict_metadata(found)
                if business:
                    entity["businessAttributes"] = business
    return out


def set_keys(fs: FeatureSet) -> list[tuple[str, str]]:
    """The keys of the entities a feature set is mapped to: itself, its features, its pipelines."""
    qn = fs.qualified_name
    keys = [(FEATURE_SET, qn), *((FEATURE, fs.feature_qn(f.name)) for f in fs.features)]
    if fs.sources:
        keys.append((PIPELINE, f"{qn}/pipeline/source"))
    if fs.derived_from:
        keys.append((PIPELINE, f"{qn}/pipeline/derivation"))
    return keys


@cache
def _mapping_code() -> str:
    """A hash of the modules that decide how a set is mapped: a featmesh whose mapping
    differs maps every set again rather than trusting digests an older one recorded."""
    here = Path(__file__).parent
    return stable_hash([(here / name).read_text(encoding="utf-8") for name in _MAPPING_MODULES])


_MAPPING_MODULES = ("entities.py", "business.py", "rules.py")


def _mapping_digest(
    fs: FeatureSet,
    revision: Mapping[str, Any] | None,
    inputs: Sequence[_Product],
    schemas: Mapping[str, frozenset[str] | None],
    by_qn: Mapping[str, FeatureSet],
    extra: Mapping[str, Mapping[str, Any]],
) -> str:
    """A hash of what a set's entities are made of: its definition, the revision the
    history gives it, the products it reads (as resolved, and the schemas of real ones),
    the features of its parents and the profile attributes of its features."""
    known = revision if revision and revision.get("content_hash") == fs.revision_hash else {}
    parents = [by_qn.get(r.qualified_name) for r in fs.derived_from]
    return stable_hash(
        {
            "code": _mapping_code(),
            "set": fs.content_hash,
            "revision": fs.revision_hash,
            "domain": [fs.domain, fs.domain_rule],
            "known": [
                known.get("first_seen"),
                known.get("first_run"),
                [h.get("id") for h in known.get("history") or ()],
            ],
            "inputs": [
                [
                    p.type_name,
                    p.qualified_name,
                    p.existing,
                    list(p.source.columns),
                    sorted(schemas[p.qualified_name] or ())
                    if schemas.get(p.qualified_name) is not None
                    else None,
                ]
                for p in inputs
            ],
            "parents": [[f.name for f in parent.features] if parent else None for parent in parents],
            "profiles": [extra.get(fs.feature_qn(f.name)) for f in fs.features] if extra else [],
        }
    )


def _as_held(
    keys: Sequence[tuple[str, str]],
    classifications: Mapping[str, Any] | None,
    held: Container[tuple[str, str]],
) -> bool:
    """The catalog holds every entity of a set (its ``keys``) and this run sets none of
    their classifications (a set not evaluated again keeps what it has)."""
    if classifications and any(classifications.get(qn) for _, qn in keys):
        return False
    return all(key in held for key in keys)


def mesh_keys(
    stores: Sequence[FeatureStore],
    *,
    rules: Iterable[MappingRule] = DEFAULT_RULES,
    exists: Exists | None = None,
    own: bool = True,
) -> list[tuple[str, str]]:
    """``map_mesh(...).keys()`` without building the entities: the (typeName,
    qualifiedName) of everything the mapping would produce, in the same order, for
    reading what the catalog holds before the evaluation decides the classifications.
    ``own`` False leaves out the sets' own keys (each set, its features, its pipelines,
    all under its store's qualifiedName), for a catalog that reads the stores' scopes
    whole anyway: most of a mesh's keys."""
    rules = tuple(rules)
    products: dict[str, _Product] = {}
    sets: list[FeatureSet] = [fs for store in stores for fs in store.feature_sets]
    keys = [(STORE, store.qualified_name) for store in stores]
    keys += [(ENTITY, entity_qn(store.kind, store.name, e.name)) for store in stores for e in store.entities]
    for fs in sets:
        for source in fs.sources:
            _product(products, source, fs, rules, exists)
    keys += [(DATA_PRODUCT, p.qualified_name) for p in products.values() if not p.existing]
    read = _columns_read(sets, products)
    keys += [
        (COLUMN, column_qn(p.qualified_name, name))
        for p in products.values()
        if not p.existing
        for name in read.get(p.qualified_name, ())
    ]
    features: list[tuple[str, str]] = []
    processes: list[tuple[str, str]] = []
    for fs in sets if own else ():
        mine = set_keys(fs)  # the set, its features, its pipelines
        last = 1 + len(fs.features)
        keys.append(mine[0])
        features.extend(mine[1:last])
        processes.extend(mine[last:])
    superseded: dict[tuple[str, str], None] = {}  # as superseded_placeholders finds them
    for fs in sets:
        for source in fs.sources:
            product = products[_product_key(source)]
            if product.existing and product.type_name not in FEATMESH_TYPES:
                superseded[(DATA_PRODUCT, placeholder_qn(product.qualified_name))] = None
    return keys + features + processes + list(superseded)


# --------------------------------------------------------------------------- entities


@cache
def _pyapacheatlas() -> tuple[Any, Any]:
    """pyapacheatlas's ``AtlasEntity`` and ``AtlasProcess``, imported on first use: commands
    that only read constants from here (``check``) never pay for it (requests, azure-identity)."""
    from pyapacheatlas.core import AtlasEntity, AtlasProcess

    return AtlasEntity, AtlasProcess


def _json(entity: AtlasEntity) -> EntityJson:
    """pyapacheatlas's JSON, without the guid and with empty attributes dropped."""
    data = entity.to_json()
    data.pop("guid", None)
    data["attributes"] = {k: v for k, v in data["attributes"].items() if v not in (None, "", [], {})}
    rel = data.get("relationshipAttributes") or {}
    data["relationshipAttributes"] = {k: v for k, v in rel.items() if v not in (None, [])}
    return data


def _atlas(
    type_name: str,
    name: str,
    qn: str,
    attributes: dict[str, Any],
    relationships: dict[str, Any] | None = None,
) -> EntityJson:
    entity = _pyapacheatlas()[0](
        name,
        type_name,
        qn,
        attributes=dict(attributes),
        relationshipAttributes=dict(relationships or {}),
    )
    return _json(entity)


def _store(store: FeatureStore) -> EntityJson:
    return _atlas(
        STORE,
        store.name,
        store.qualified_name,
        {
            "description": store.description,
            "owner": store.owner,
            "storeKind": store.kind,
            "uri": store.uri,
            "platform": store.extra.get("platform"),
            "domain": store.domain,
            "tags": dict(store.tags),
        },
    )


def _entity(store: FeatureStore, entity: Any) -> EntityJson:
    return _atlas(
        ENTITY,
        entity.name,
        entity_qn(store.kind, store.name, entity.name),
        {
            "description": entity.description,
            "joinKeys": [f"{c.name}:{c.dtype}" for c in entity.columns],
            "version": entity.version,
            "tags": dict(entity.tags),
        },
        {"store": ref(STORE, store.qualified_name)},
    )


def _feature_set(fs: FeatureSet, revision: Mapping[str, Any] | None = None) -> EntityJson:
    store = store_qn(fs.store_kind, fs.store)
    known = revision if revision and revision.get("content_hash") == fs.revision_hash else {}
    return _atlas(
        FEATURE_SET,
        fs.name,
        fs.qualified_name,
        {
            "description": fs.description,
            "owner": fs.owner,
            "version": fs.version or "latest",
            "domain": fs.domain,
            "domainRule": fs.domain_rule,
            "storeKind": fs.store_kind,
            "timestampField": fs.timestamp_field,
            "ttlSeconds": fs.ttl_seconds,
            "joinKeys": [f"{k.name}:{k.dtype}" for k in fs.join_keys],
            "sourceUris": [s.uri for s in fs.sources],
            "derivedFrom": [r.qualified_name for r in fs.derived_from],
            "consumers": list(fs.consumers),
            "contentHash": fs.content_hash,
            # what a model names to say which definition it was trained on; when it was
            # last seen changes on every scan, so it stays in the run record, not here
            "revision": fs.revision,
            "revisionHash": fs.revision_hash,
            "revisionFirstSeen": known.get("first_seen"),
            "revisionFirstRun": known.get("first_run"),
            "previousRevisions": [str(h["id"]) for h in known.get("history") or () if h.get("id")],
            "stage": fs.extra.get("stage"),
            "tags": dict(fs.tags),
        },
        {
            "store": ref(STORE, store),
            "entities": [ref(ENTITY, entity_qn(fs.store_kind, fs.store, e)) for e in fs.entities],
        },
    )


def _feature(fs: FeatureSet, feature: Feature, extra: Mapping[str, Any] | None) -> EntityJson:
    attributes: dict[str, Any] = {
        "description": feature.description,
        "dataType": feature.dtype,
        "rawType": feature.raw_type,
        "sourceColumns": list(feature.source_columns),
        "transformation": feature.transformation,
        "tags": dict(feature.tags),
    }
    attributes.update(extra or {})
    return _atlas(
        FEATURE,
        feature.name,
        fs.feature_qn(feature.name),
        attributes,
        {"featureSet": ref(FEATURE_SET, fs.qualified_name)},
    )


# --------------------------------------------------------------------------- consumers


def _out_qn(process: EntityJson) -> str:
    return str(process["attributes"]["outputs"][0]["uniqueAttributes"]["qualifiedName"])


def _consumer(
    store: FeatureStore,
    consumer: Consumer,
    rules: tuple[MappingRule, ...],
    exists: Exists | None,
    known: set[str],
) -> tuple[EntityJson | None, EntityJson]:
    """A consumer's model entity (None when a mapping rule resolves it to an entity the
    catalog holds) and its lineage process from exactly the feature sets and features it
    reads. Only sets the catalog will hold are inputs; the rest stay named in
    ``featureSets``."""
    qn = store.consumer_qn(consumer)
    target: tuple[str, str] | None = None
    if consumer.registered_at:
        by_kind = [r for r in rules if consumer.kind in r.source_kinds]
        resolved = resolve(by_kind, consumer.kind, consumer.registered_at)
        if resolved and exists is not None and exists(*resolved):
            target = resolved
    out_ref = ref(*target) if target else ref(MODEL, qn)
    set_qns = [r.feature_set.qualified_name for r in consumer.reads]
    feature_qns = [f"{r.feature_set.qualified_name}#{f}" for r in consumer.reads for f in r.features]
    model = None
    if target is None:
        model = _atlas(
            MODEL,
            consumer.name,
            qn,
            {
                "description": consumer.description,
                "owner": consumer.owner,
                "consumerKind": consumer.kind,
                "version": consumer.version,
                "domain": consumer.domain or store.domain,
                "storeKind": store.kind,
                "registeredAt": consumer.registered_at,
                "featureSets": list(dict.fromkeys(set_qns)),
                "features": feature_qns,
                "featureSetRevisions": {
                    r.feature_set.qualified_name: r.revision for r in consumer.reads if r.revision
                },
                "serves": [_served_qn(store, s) for s in consumer.serves],
                "tags": dict(consumer.tags),
            },
        )
    inputs = [
        r
        for r in consumer.reads
        if r.feature_set.qualified_name in known
        or (exists is not None and exists(FEATURE_SET, r.feature_set.qualified_name))
    ]
    seen: dict[str, list[str]] = {}
    for read in inputs:
        seen.setdefault(read.feature_set.qualified_name, []).extend(read.features)
    reads = [f"{set_qn}#{f}" for set_qn, features in seen.items() for f in dict.fromkeys(features)]
    process = _pyapacheatlas()[1](
        f"{consumer.name} (consumption)",
        PIPELINE,
        f"{qn}/pipeline/consumption",
        inputs=[ref(FEATURE_SET, q) for q in seen],
        outputs=[out_ref],
        attributes={
            "pipelineKind": "consumption",
            "readsFeatures": reads,
            "description": f"{consumer.kind} {consumer.name} reads its features from these feature sets.",
        },
    )
    return model, _json(process)


def _served_qn(store: FeatureStore, key: str) -> str:
    kind, _, rest = key.partition("/")
    name, _, version = rest.partition("@")
    return consumer_qn(store.kind, store.name, kind, name, version or None)


# --------------------------------------------------------------------------- data products


@dataclass
class _Product:
    type_name: str
    qualified_name: str
    source: SourceRef
    existing: bool
    expected_type: str | None

    def placeholder(self) -> EntityJson:
        return _atlas(
            DATA_PRODUCT,
            _display_name(self.source),
            self.qualified_name,
            {
                "description": f"Placeholder for the {self.source.kind} source {self.source.uri}, "
                "read by feature sets; not (yet) registered in the catalog.",
                "sourceKind": self.source.kind,
                "uri": self.source.uri,
                "format": self.source.format,
                "expectedTypeName": self.expected_type,
            },
        )


def column_qn(product_qn: str, column: str) -> str:
    """A placeholder column's qualifiedName: the placeholder's, ``#`` and the column name."""
    return f"{product_qn}#{column}"


def _column(product: _Product, name: str) -> EntityJson:
    return _atlas(
        COLUMN,
        name,
        column_qn(product.qualified_name, name),
        {"description": f"Column {name} of {product.source.uri}, as feature sets read it."},
        {"dataProduct": ref(DATA_PRODUCT, product.qualified_name)},
    )


def _pairs(fs: FeatureSet, product: _Product, only_source: bool) -> list[tuple[str, str]]:
    """(source column, feature) pairs a set reads from ``product``: every source column of
    its features when it is the set's only source, else those the source declares."""
    return [
        (col, f.name)
        for f in fs.features
        for col in f.source_columns
        if only_source or col in product.source.columns
    ]


def _distinct_products(fs: FeatureSet, products: Mapping[str, _Product]) -> list[_Product]:
    seen: dict[str, _Product] = {}
    for source in fs.sources:
        product = products[_product_key(source)]
        seen.setdefault(product.qualified_name, product)
    return list(seen.values())


def _columns_read(sets: Iterable[FeatureSet], products: Mapping[str, _Product]) -> dict[str, list[str]]:
    """Each data product's columns the sets' lineage reads, in first-read order."""
    found: dict[str, dict[str, None]] = {}
    for fs in sets:
        read = _distinct_products(fs, products)
        for product in read:
            columns = found.setdefault(product.qualified_name, {})
            for col, _ in _pairs(fs, product, len(read) == 1):
                columns[col] = None
    return {qn: list(columns) for qn, columns in found.items()}


def _real_schemas(
    products: Mapping[str, _Product], columns: Columns | None
) -> dict[str, frozenset[str] | None]:
    """The schema the catalog shows for each real product read (None: not checked)."""
    if columns is None:
        return {}
    return {p.qualified_name: columns(p.type_name, p.qualified_name) for p in products.values() if p.existing}


def _product_key(source: SourceRef) -> str:
    return f"{source.kind}|{source.uri}"


def _product(
    products: dict[str, _Product],
    source: SourceRef,
    fs: FeatureSet,
    rules: tuple[MappingRule, ...],
    exists: Exists | None,
) -> None:
    key = _product_key(source)
    product = products.get(key)
    if product is None:
        resolved = resolve(rules, source.kind, source.uri)
        if resolved and exists is not None and exists(*resolved):
            product = _Product(resolved[0], resolved[1], source, existing=True, expected_type=None)
        else:
            qn = placeholder_qn(resolved[1] if resolved else source.uri)
            expected = resolved[0] if resolved else None
            product = _Product(DATA_PRODUCT, qn, source, existing=False, expected_type=expected)
        products[key] = product


def is_placeholder(qn: str) -> bool:
    """A qualifiedName featmesh gives its own placeholders (:func:`placeholder_qn`)."""
    return qn.startswith(PLACEHOLDER_PREFIX)


PLACEHOLDER_PREFIX = "featmesh://data-product/"


def placeholder_qn(name: str) -> str:
    """A placeholder's qualifiedName: the name the real entity will have, prefixed, since
    Atlas keeps qualifiedNames unique across types and the real one may come later."""
    return f"{PLACEHOLDER_PREFIX}{name}"


def superseded_placeholders(desired: Iterable[EntityJson]) -> list[tuple[str, str]]:
    """The placeholders that the desired lineage no longer needs: a pipeline reading a
    catalog entity of another type (a source a mapping rule resolved) supersedes the
    placeholder featmesh made for that entity before it existed."""
    found: dict[tuple[str, str], None] = {}
    for entity in desired:
        if entity["typeName"] != PIPELINE:
            continue
        for item in entity["attributes"].get("inputs") or []:
            type_name = item.get("typeName")
            qn = (item.get("uniqueAttributes") or {}).get("qualifiedName")
            if qn and type_name not in FEATMESH_TYPES:
                found[(DATA_PRODUCT, placeholder_qn(qn))] = None
    return list(found)


def former_placeholder_keys(stores: Sequence[FeatureStore]) -> list[tuple[str, str]]:
    """The placeholders featmesh made, before files of a store's own folder were named by
    the store (``file:KIND/STORE/PATH``), for the repo-local files the stores read: Feast's
    were named by the file's absolute path on the scanning machine, the other readers' by
    the path as written. Looked up by name (no search of the catalog), for the plan to
    retire once nothing reads them (``plan.retire_placeholders``)."""
    found: dict[tuple[str, str], None] = {}
    for store in stores:
        for fs in store.feature_sets:
            for source in fs.sources:
                written = source.extra.get("path_as_written")  # localfiles.WRITTEN
                if source.location is None or not isinstance(written, str):
                    continue
                for name in (source.location, str(Path(source.location).resolve()), written):
                    found[(DATA_PRODUCT, placeholder_qn(name))] = None
    return list(found)


def abandoned_placeholders(
    current: Iterable[EntityJson], desired: Iterable[EntityJson]
) -> list[tuple[str, str]]:
    """The placeholders featmesh made that the catalog's processes of the scanned stores
    read or write (``current``) and that no ``desired`` entity is: a source a set no longer
    reads, or that is named otherwise now (a repo-local file once named by its absolute
    path). Candidates only: a placeholder goes once nothing reads it any more, a process
    of a store not scanned in this run included (``plan.retire_placeholders``). Only
    ``featmesh_data_product`` entities featmesh named are ever listed, never a real one."""
    wanted = {(e["typeName"], e["attributes"]["qualifiedName"]) for e in desired}
    found: dict[tuple[str, str], None] = {}
    for entity in current:
        attributes = entity.get("attributes") or {}
        for end in ("inputs", "outputs"):
            for item in attributes.get(end) or []:
                if not isinstance(item, dict) or item.get("typeName") != DATA_PRODUCT:
                    continue
                qn = (item.get("uniqueAttributes") or {}).get("qualifiedName")
                if not isinstance(qn, str) or not is_placeholder(qn):
                    continue
                if (DATA_PRODUCT, qn) not in wanted:
                    found[(DATA_PRODUCT, qn)] = None
    return list(found)


def _display_name(source: SourceRef) -> str:
    if source.name:
        return source.name
    trimmed = source.uri.rstrip("/")
    parts = trimmed.split("/")
    tail = parts[-1]
    # a glob names no dataset (``*.parquet``): show the folders it matches in
    while len(parts) > 1 and any(c in parts[-1] for c in "*?["):
        parts.pop()
    if parts[-1] != tail:
        return f"{parts[-1]}/{tail}" if parts[-1] else tail
    return tail or source.uri


# --------------------------------------------------------------------------- lineage


def _source_pipeline(
    fs: FeatureSet,
    inputs: list[_Product],
    schemas: Mapping[str, frozenset[str] | None],
    unmapped: list[str],
) -> EntityJson:
    """``schemas``: the columns real products show (:func:`_real_schemas`); a pair naming
    one a real product lacks is left out, and ``unmapped`` says so."""
    seen: dict[str, _Product] = {}
    for product in inputs:
        seen.setdefault(product.qualified_name, product)
    mapping = []
    for product in seen.values():
        pairs = _pairs(fs, product, len(seen) == 1)
        schema = schemas.get(product.qualified_name)
        if schema is not None:
            missing = list(dict.fromkeys(col for col, _ in pairs if col not in schema))
            if missing:
                unmapped.append(
                    f"{fs.qualified_name}: column-level lineage from {product.type_name} "
                    f"{product.qualified_name} leaves out {', '.join(missing)}: not in the schema "
                    "the catalog shows for it"
                )
            pairs = [(col, feature) for col, feature in pairs if col in schema]
        columns = [{"Source": col, "Sink": feature} for col, feature in pairs]
        if columns:
            mapping.append(
                {
                    "DatasetMapping": {"Source": product.qualified_name, "Sink": fs.qualified_name},
                    "ColumnMapping": columns,
                }
            )
    return _process(
        fs,
        "source",
        [ref(p.type_name, p.qualified_name) for p in seen.values()],
        mapping,
        fs.extra.get("transformation"),
    )


def _derivation_pipeline(fs: FeatureSet, by_qn: Mapping[str, FeatureSet]) -> EntityJson:
    """``by_qn``: the mapped sets by qualifiedName, built once per mapping."""
    mapping = []
    for parent_ref in fs.derived_from:
        parent = by_qn.get(parent_ref.qualified_name)
        parent_features = {f.name for f in parent.features} if parent else set()
        columns = [
            {"Source": col, "Sink": f.name}
            for f in fs.features
            for col in f.source_columns
            if col in parent_features
        ]
        if columns:
            mapping.append(
                {
                    "DatasetMapping": {"Source": parent_ref.qualified_name, "Sink": fs.qualified_name},
                    "ColumnMapping": columns,
                }
            )
    inputs = [ref(FEATURE_SET, r.qualified_name) for r in fs.derived_from]
    return _process(fs, "derivation", inputs, mapping, fs.extra.get("derivation"))


_INPUTS = {"source": "sources", "derivation": "parent feature sets"}


def _process(
    fs: FeatureSet,
    kind: str,
    inputs: list[dict[str, Any]],
    column_mapping: list[dict[str, Any]],
    transformation: Any,
) -> EntityJson:
    qn = f"{fs.qualified_name}/pipeline/{kind}"
    process = _pyapacheatlas()[1](
        f"{fs.name} ({kind})",
        PIPELINE,
        qn,
        inputs=inputs,
        outputs=[ref(FEATURE_SET, fs.qualified_name)],
        attributes={
            "pipelineKind": kind,
            "columnMapping": json.dumps(column_mapping, sort_keys=True) if column_mapping else None,
            "transformation": transformation if isinstance(transformation, str) else None,
            "description": f"Computes {fs.name} from its {_INPUTS[kind]}.",
        },
    )
    return _json(process)

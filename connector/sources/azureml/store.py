"""Assembling one Azure ML feature store: entities, assets, their specs, and lineage."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from featmesh.connector.documents import Document, load_schema, load_yaml, validate
from featmesh.connector.model import (
    DERIVED,
    Entity,
    FeatureSet,
    FeatureSetRef,
    FeatureStore,
    KeyColumn,
    KeyPlace,
    LazyKeys,
    Origin,
    newest_version,
    normalize_dtype,
    to_dict,
)
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources.azureml import KIND, SPEC_NAME
from featmesh.connector.sources.azureml.spec import ParsedSpec, parse_spec

ASSET = "asset"
ENTITY = "entity"

_ENTITY_REF = re.compile(r"^(?:azureml:)?(?P<name>[A-Za-z0-9_.-]+)(?::(?P<version>[^:]+)|@latest)?$")


@cache
def _schema(name: str) -> dict[str, Any]:
    return load_schema(__package__ or "featmesh.connector.sources.azureml", f"{name}.schema.json")


def classify(doc: Document) -> str | None:
    """``asset``, ``entity`` or None for a YAML that is neither."""
    data = doc.data
    if not isinstance(data, dict):
        return None
    declared = str(data.get("$schema", "")).lower()
    if "featurestoreentity" in declared:
        return ENTITY
    if "featureset.json" in declared or "specification" in data:
        return ASSET
    if "index_columns" in data and "source" not in data and "name" in data:
        return ENTITY
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass
class StoreBuilder:
    name: str
    uri: str
    specs: dict[Path, Path] = field(default_factory=dict)
    """Every spec file found, by resolved path (to tell the unregistered ones)."""
    entities: dict[tuple[str, str | None], tuple[Entity, Document]] = field(default_factory=dict)
    assets: list[Document] = field(default_factory=list)

    def add(self, role: str, doc: Document) -> None:
        if role == ENTITY:
            validate(doc, _schema("entity"))
            entity = _entity(doc)
            key = (entity.name, entity.version)
            if key in self.entities:
                raise doc.error(
                    f"entity '{entity.name}' version {entity.version} is declared twice "
                    f"(first in {self.entities[key][1].path})",
                    ("name",),
                )
            self.entities[key] = (entity, doc)
        else:
            validate(doc, _schema("asset"))
            self.assets.append(doc)

    def build(self, report: SourceReport) -> FeatureStore:
        sets: dict[tuple[str, str | None], tuple[FeatureSet, Document, ParsedSpec]] = {}
        used_specs: set[Path] = set()
        versions: dict[tuple[str, str | None], list[tuple[FeatureSet, Document, Document]]] = {}
        for doc in self.assets:
            spec_path = _spec_file(doc)
            used_specs.add(spec_path.resolve())
            spec_doc = _load_spec(spec_path)
            fs = self._asset_set(doc, parse_spec(spec_doc), spec_doc)
            versions.setdefault((fs.name, fs.version), []).append((fs, doc, spec_doc))
        for group in versions.values():
            fs, doc, spec_doc = _merge_assets(group, report)
            self._put(sets, fs, doc, spec_doc)
        for resolved, path in sorted(self.specs.items()):
            if resolved in used_specs:
                continue
            spec_doc = _load_spec(path)
            fs = self._draft_set(path, parse_spec(spec_doc), spec_doc)
            report.warn(
                f"{path}: no feature set asset points at this spec; read as unregistered "
                f"feature set '{fs.name}' (no version, no entities)"
            )
            report.count("unregistered_specs")
            self._put(sets, fs, spec_doc, spec_doc)
        linked = [self._link(fs, spec_doc, sets) for fs, spec_doc, _ in sets.values()]
        return FeatureStore(
            kind=KIND,
            name=self.name,
            uri=self.uri,
            entities=tuple(
                e for e, _ in sorted(self.entities.values(), key=lambda v: (v[0].name, v[0].version or ""))
            ),
            feature_sets=tuple(sorted(linked, key=lambda fs: (fs.name, fs.version or ""))),
        )

    def _put(self, sets: dict[Any, Any], fs: FeatureSet, doc: Document, spec_doc: Document) -> None:
        key = (fs.name, fs.version)
        if key in sets:
            raise doc.error(
                f"feature set '{fs.name}' version {fs.version} is declared twice "
                f"(first in {sets[key][0].origin})",
                ("name",),
            )
        sets[key] = (fs, spec_doc, None)

    def _asset_set(self, doc: Document, spec: ParsedSpec, spec_doc: Document) -> FeatureSet:
        data = doc.data
        tags = {str(k): str(v) for k, v in (data.get("tags") or {}).items()}
        entity_names = tuple(self._entity(doc, i, ref) for i, ref in enumerate(data.get("entities") or []))
        extra = {**spec.extra, "registered": True}
        for key in ("stage", "materialization_settings"):
            if key in data:
                extra[key] = data[key]
        return _feature_set(
            self.name,
            spec,
            name=data["name"],
            version=_text(data.get("version")),
            description=data.get("description", ""),
            tags=tags,
            entities=entity_names,
            extra=extra,
            origin=Origin(
                path=doc.path,
                line=doc.line_of(("name",)),
                pointer="name",
                keys=LazyKeys(key_lines, doc, spec_doc),
            ),
        )

    def _draft_set(self, path: Path, spec: ParsedSpec, spec_doc: Document) -> FeatureSet:
        folder = path.parent.name if path.parent.name.lower() != "spec" else path.parent.parent.name
        return _feature_set(
            self.name,
            spec,
            name=folder,
            version=None,
            description="",
            tags={},
            entities=(),
            extra={**spec.extra, "registered": False},
            origin=Origin(path=str(path), line=1, keys=LazyKeys(key_lines, None, spec_doc)),
        )

    def _entity(self, doc: Document, i: int, ref: str) -> str:
        match = _ENTITY_REF.match(ref)
        if not match:
            raise doc.error(f"'{ref}' is not an entity reference (azureml:NAME:VERSION)", ("entities", i))
        name, version = match["name"], match["version"]
        versions = [v for (n, v) in self.entities if n == name]
        if (version is None and versions) or (name, version) in self.entities:
            return name
        known = ", ".join(f"{n}:{v}" for n, v in sorted(self.entities, key=str)) or "none"
        raise doc.error(
            f"entity '{ref}' does not resolve: no entity YAML in this feature store declares it "
            f"(declared: {known})",
            ("entities", i),
        )

    def _link(self, fs: FeatureSet, spec_doc: Document, sets: dict[Any, Any]) -> FeatureSet:
        parent = fs.extra.get("_parent")
        extra = {k: v for k, v in fs.extra.items() if k != "_parent"}
        if parent is None:
            return replace(fs, extra=extra)
        name, version = parent
        versions = [v for (n, v) in sets if n == name]
        if version is None and versions:
            version = newest_version(versions)
        if (name, version) not in sets:
            raise spec_doc.error(
                f"source feature set '{name}:{version or 'latest'}' is not in feature store '{self.name}'",
                ("source", "path"),
            )
        ref = FeatureSetRef(store_kind=KIND, store=self.name, name=name, version=version)
        return replace(fs, kind=DERIVED, derived_from=(ref,), extra=extra)


ASSET_KEYS = ("name", "version", "description", "tags", "entities")
SPEC_KEYS = {
    "sources": ("source",),
    "timestamp_field": ("source", "timestamp_column"),
    "ttl": ("temporal_join_lookback",),
}
"""Model key -> where the spec writes it."""
FEATURE_KEYS = (("name", "name"), ("dtype", "type"), ("description", "description"), ("tags", "tags"))
"""A feature's model key -> the spec's key for it."""


def key_lines(asset: Document | None, spec: Document) -> tuple[tuple[str, KeyPlace], ...]:
    """The line of each key of a feature set version: its asset file's ``name``,
    ``description``, ``tags``, ``entities``; its spec's features (each ``- name:``, its
    ``type:`` as the dtype), ``source`` and ``timestamp_column``. Looked up only when a
    finding needs a line."""
    found: list[tuple[str, KeyPlace]] = []
    if asset is not None and isinstance(asset.data, dict):
        for key in ASSET_KEYS:
            line = asset.line_of((key,)) if key in asset.data else None
            if line is not None:
                found.append((key, line))
    data = spec.data if isinstance(spec.data, dict) else {}

    def add(name: str, pointer: tuple[Any, ...]) -> None:
        line = spec.line_of(pointer)
        if line is not None:
            found.append((name, (spec.path, line)))

    for key, pointer in SPEC_KEYS.items():
        node: Any = data
        for part in pointer:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            add(key, pointer)
    for i, feature in enumerate(data.get("features") or ()):
        if not isinstance(feature, dict) or "name" not in feature:
            continue
        prefix = f"features.{feature['name']}"
        add(prefix, ("features", i))
        for key, written in (
            ("name", "name"),
            ("dtype", "type"),
            ("description", "description"),
            ("tags", "tags"),
        ):
            if written in feature:
                add(f"{prefix}.{key}", ("features", i, written))
    return tuple(found)


MATERIALIZATION = "materialization_settings"


def _definition(fs: FeatureSet) -> dict[str, Any]:
    """What an asset file says about its set version, materialization settings aside."""
    body = to_dict(replace(fs, extra={k: v for k, v in fs.extra.items() if k != MATERIALIZATION}))
    body.pop("origin", None)
    return dict(body)


def _merge_assets(
    group: list[tuple[FeatureSet, Document, Document]], report: SourceReport
) -> tuple[FeatureSet, Document, Document]:
    """One feature set version from every asset file that declares it.

    Azure ML's own sample keeps several asset files for one version, the same
    definition with different ``materialization_settings``, applied one after another
    (``sdk/python/featurestore_sample/featurestore/featuresets/transactions`` in
    Azure/azureml-examples): the store then holds the definition with the settings of
    the last one applied. Files are taken in path order; the last file that has
    materialization settings gives them, and ``extra`` says which file. Files that
    disagree on anything else are a conflict: the first file's definition is kept
    with ``extra["definition_conflict"]`` naming both files (the
    ``definition-consistent`` rule fails it), and the store's other sets are untouched.
    """
    first, first_doc, first_spec = group[0]
    if len(group) == 1:
        return group[0]
    paths = [doc.path for _, doc, _ in group]
    base = _definition(first)
    extra = dict(first.extra)
    conflicts: list[str] = []
    elsewhere: list[list[Any]] = []  # [path, line] of each file disagreeing with the first
    winner: str | None = first_doc.path if MATERIALIZATION in first.extra else None
    for fs, doc, _ in group[1:]:
        other = _definition(fs)
        if other != base:
            differ = sorted(k for k in set(base) | set(other) if base.get(k) != other.get(k))
            if differ == ["extra"]:
                differ = sorted(
                    f"extra.{k}"
                    for k in set(base["extra"]) | set(other["extra"])
                    if base["extra"].get(k) != other["extra"].get(k)
                )
            conflicts.append(
                f"{first_doc.path} and {doc.path} both declare feature set '{first.name}' version "
                f"{first.version} but differ in {', '.join(differ)}"
            )
            elsewhere.append([doc.path, doc.line_of(("name",))])
            continue
        if MATERIALIZATION in fs.extra:
            extra[MATERIALIZATION] = fs.extra[MATERIALIZATION]
            winner = doc.path
    extra["asset_files"] = paths
    if winner is not None:
        extra["materialization_settings_from"] = winner
    if conflicts:
        extra["definition_conflict"] = "; ".join(conflicts)
        extra["definition_conflict_at"] = elsewhere
        for message in conflicts:
            report.warn(message)
        report.count("asset_conflicts", len(conflicts))
    else:
        report.count("asset_files_merged", len(group) - 1)
        report.warn(
            f"feature set '{first.name}' version {first.version} is declared by {len(group)} asset files "
            f"with the same definition ({', '.join(paths)}); merged"
            + (f", materialization settings from {winner}" if winner else "")
        )
    return replace(first, extra=extra), first_doc, first_spec


def _feature_set(store: str, spec: ParsedSpec, **fields: Any) -> FeatureSet:
    extra = dict(fields.pop("extra"))
    if spec.parent is not None:
        extra["_parent"] = spec.parent
    tags = fields["tags"]
    return FeatureSet(
        store_kind=KIND,
        store=store,
        owner=tags.get("owner"),
        join_keys=spec.keys,
        timestamp_field=spec.timestamp_field,
        ttl_seconds=spec.temporal_join_lookback,
        features=spec.features,
        sources=spec.sources,
        extra=extra,
        **fields,
    )


def _entity(doc: Document) -> Entity:
    data = doc.data
    return Entity(
        name=data["name"],
        version=_text(data.get("version")),
        description=data.get("description", ""),
        tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
        columns=tuple(
            KeyColumn(name=c["name"], dtype=normalize_dtype(c["type"]), raw_type=c["type"])
            for c in data["index_columns"]
        ),
    )


def _spec_file(doc: Document) -> Path:
    written = doc.data["specification"]["path"]
    target = Path(doc.path).parent / written
    where = ("specification", "path")
    if target.is_file():
        return target
    if not target.is_dir():
        raise doc.error(f"spec path '{written}' does not exist", where)
    found = [p for p in target.iterdir() if p.name.lower() == SPEC_NAME and p.is_file()]
    if not found:
        raise doc.error(f"spec folder '{written}' holds no FeatureSetSpec.yaml", where)
    if len(found) > 1:
        names = ", ".join(sorted(p.name for p in found))
        raise doc.error(f"spec folder '{written}' holds several specs ({names})", where)
    return found[0]


def _load_spec(path: Path) -> Document:
    doc = load_yaml(path)
    validate(doc, _schema("spec"))
    return doc


__all__ = ["KIND", "SPEC_NAME", "StoreBuilder", "classify"]

"""The ``manifest`` source: feature sets declared in YAML for stores featmesh cannot read.

A manifest file (``apiVersion: featmesh/v1``) describes one store, its join-key
entities and its feature sets; its JSON Schema ships beside this module
(``manifest.schema.json``; point ``$schema`` at it for editor support). The location
is a file or a folder, read recursively for ``*.yaml`` / ``*.yml`` files. Several files
may describe the same store; their feature sets are merged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from featmesh.connector import progress
from featmesh.connector.documents import Document, load_schema, load_yaml, validate
from featmesh.connector.errors import InputError
from featmesh.connector.model import (
    Consumer,
    ConsumerRead,
    Entity,
    Feature,
    FeatureSet,
    FeatureSetRef,
    FeatureStore,
    KeyColumn,
    Origin,
    SourceRef,
    make_feature,
    newest_version,
    parse_feature_set_qn,
)
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import Reader
from featmesh.connector.sources.common import infer_source_kind, parse_duration
from featmesh.connector.sources.localfiles import store_files

KIND = "manifest"
API_VERSION = "featmesh/v1"


@cache
def schema() -> dict[str, Any]:
    return load_schema(__name__, "manifest.schema.json")


def detect(path: Path) -> bool:
    files = [path] if path.is_file() else _manifest_files(path) if path.is_dir() else []
    return any(_looks_like_manifest(f) for f in files[:20])


def read(location: str, report: SourceReport, options: Mapping[str, Any]) -> list[FeatureStore]:
    root = Path(location)
    if not root.exists():
        raise InputError("no such file or folder", path=location)
    files = [root] if root.is_file() else _manifest_files(root)
    if not files:
        raise InputError("folder holds no manifest (*.yaml, *.yml)", path=location)
    builders: dict[str, _StoreBuilder] = {}
    first_error: InputError | None = None
    with progress.meter(f"reading {location}", len(files), "files") as bar:
        for path in files:
            err = _read_file(root, location, path, builders, report)
            first_error = first_error or err
            bar.advance()
    if not builders and first_error is not None:
        raise first_error
    # a relative path is a file beside the manifest: named by the store and that path
    return [store_files(builder.build(report, strict=root.is_file()), None) for builder in builders.values()]


def _read_file(
    root: Path, location: str, path: Path, builders: dict[str, _StoreBuilder], report: SourceReport
) -> InputError | None:
    """Read one manifest into its store's builder; a broken file of a folder is recorded
    and returned (one broken file never blocks the rest), a broken single file raises."""
    try:
        doc = load_yaml(path)
        if root.is_dir() and _other_featmesh_kind(doc):
            # a policy pack or waivers file beside the manifests (the recommended layout)
            report.count("files_skipped")
            return None
        if root.is_dir() and not _declares_manifest(doc):
            report.warn(f"{path}: not a featmesh manifest (no 'apiVersion: {API_VERSION}'); skipped")
            report.count("files_skipped")
            return None
        validate(doc, schema(), parts="feature_sets")
        store = doc.data["store"]
        builder = builders.get(store["name"])
        if builder is None:
            builder = _StoreBuilder(name=store["name"], uri=location)
        builder.add(doc)
        builders[store["name"]] = builder
    except InputError as err:
        # one broken file never blocks the rest: it is recorded, the others are read
        if root.is_file():
            raise
        report.problem(err)
        return err
    report.count("files")
    return None


READER = Reader(
    kind=KIND,
    read=read,
    detect=detect,
    description="featmesh manifest YAML files (apiVersion: featmesh/v1)",
)


def _manifest_files(folder: Path) -> list[Path]:
    found = [p for pattern in ("*.yaml", "*.yml") for p in folder.rglob(pattern)]
    return sorted(
        p
        for p in found
        if p.is_file() and not any(part.startswith(".") for part in p.parts[len(folder.parts) :])
    )


def _looks_like_manifest(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return API_VERSION.encode() in head


def _other_featmesh_kind(doc: Document) -> bool:
    """A featmesh document that is not a manifest: a policy pack, a waivers file (their
    ``kind``), or a featmesh.yaml config (``version`` and ``sources``, no ``apiVersion``)."""
    data = doc.data
    if not isinstance(data, dict):
        return False
    if data.get("apiVersion") == API_VERSION and data.get("kind") in ("PolicyPack", "Waivers"):
        return True
    return "apiVersion" not in data and "version" in data and "sources" in data


def _declares_manifest(doc: Document) -> bool:
    return isinstance(doc.data, dict) and doc.data.get("apiVersion") == API_VERSION


@dataclass
class _StoreBuilder:
    name: str
    uri: str
    attrs: dict[str, Any] = field(default_factory=dict)
    attr_origin: dict[str, str] = field(default_factory=dict)
    entities: dict[str, Entity] = field(default_factory=dict)
    entity_origin: dict[str, str] = field(default_factory=dict)
    sets: list[tuple[FeatureSet, Document, int, tuple[str, ...]]] = field(default_factory=list)
    """Each set, where it is (its file's positions, without the file's data: none of a
    file's parsed content outlives its reading), and the store keys it inherits."""
    consumers: list[tuple[Consumer, Document, int]] = field(default_factory=list)

    def add(self, doc: Document) -> None:
        """Add one file's declarations; a file with an error adds nothing."""
        before = (dict(self.attrs), dict(self.attr_origin), dict(self.entities), dict(self.entity_origin))
        count = len(self.sets)
        try:
            self._add(doc)
        except InputError:
            self.attrs, self.attr_origin, self.entities, self.entity_origin = before
            del self.sets[count:]
            raise

    def _add(self, doc: Document) -> None:
        data = doc.data
        for key in ("platform", "description", "domain", "owner", "tags"):
            if key not in data["store"]:
                continue
            value = data["store"][key]
            if key in self.attrs and self.attrs[key] != value:
                raise doc.error(
                    f"store '{self.name}' has {key} {value!r} here but {self.attrs[key]!r} "
                    f"in {self.attr_origin[key]}",
                    ("store", key),
                )
            self.attrs[key] = value
            self.attr_origin[key] = doc.path
        for i, raw in enumerate(data.get("entities", [])):
            if raw["name"] in self.entities:
                raise doc.error(
                    f"entity '{raw['name']}' is declared twice (first in {self.entity_origin[raw['name']]})",
                    ("entities", i, "name"),
                )
            self._check_unique(
                doc, [k["name"] for k in raw["join_keys"]], ("entities", i, "join_keys"), "join key"
            )
            self.entities[raw["name"]] = Entity(
                name=raw["name"],
                description=raw.get("description", ""),
                columns=tuple(
                    KeyColumn(name=k["name"], dtype=k.get("dtype", "unknown"), raw_type=k.get("dtype"))
                    for k in raw["join_keys"]
                ),
                tags=_tags(raw.get("tags")),
            )
            self.entity_origin[raw["name"]] = doc.path
        positions = doc.positions()
        for i, raw in enumerate(data.get("feature_sets", ())):
            inherits = tuple(key for key in _INHERITED if key in data["store"] and key not in raw)
            self.sets.append((self._feature_set(doc, positions, i, raw), positions, i, inherits))
        for i, raw in enumerate(data.get("consumers", ())):
            self.consumers.append((self._consumer(positions, i, raw), positions, i))

    def _consumer(self, doc: Document, i: int, raw: dict[str, Any]) -> Consumer:
        where = ("consumers", i)
        version = raw.get("version")
        return Consumer(
            kind=raw.get("kind", "model"),
            name=raw["name"],
            version=None if version is None else str(version),
            owner=raw.get("owner"),
            domain=raw.get("domain"),
            description=raw.get("description", ""),
            registered_at=raw.get("registered_at"),
            reads=tuple(
                ConsumerRead(
                    feature_set=_parse_ref(
                        doc, (*where, "reads", j, "feature_set"), r["feature_set"], self.name
                    ),
                    features=tuple(r.get("features", ())),
                    revision=r.get("revision"),
                )
                for j, r in enumerate(raw["reads"])
            ),
            serves=tuple(raw.get("serves", ())),
            tags=_tags(raw.get("tags")),
            origin=Origin(path=doc.path, line=doc.line_of(where), pointer=f"consumers[{i}]"),
        )

    def _feature_set(self, doc: Document, positions: Document, i: int, raw: dict[str, Any]) -> FeatureSet:
        where = ("feature_sets", i)
        self._check_unique(doc, [f["name"] for f in raw["features"]], (*where, "features"), "feature")
        ttl = None
        if "ttl" in raw:
            try:
                ttl = parse_duration(raw["ttl"])
            except ValueError as err:
                raise doc.error(str(err), (*where, "ttl")) from None
        tags = _tags(raw.get("tags"))
        version = raw.get("version")
        return FeatureSet(
            store_kind=KIND,
            store=self.name,
            name=raw["name"],
            version=None if version is None else str(version),
            domain=raw.get("domain"),
            domain_rule="declared" if raw.get("domain") else None,
            owner=raw.get("owner"),
            description=raw.get("description", ""),
            tags=tags,
            entities=tuple(raw.get("entities", ())),
            timestamp_field=raw.get("timestamp_field"),
            ttl_seconds=ttl,
            features=tuple(_feature(f) for f in raw["features"]),
            sources=tuple(_source(s) for s in raw.get("sources", ())),
            derived_from=tuple(
                _parse_ref(doc, (*where, "derived_from", j), text, self.name)
                for j, text in enumerate(raw.get("derived_from", ()))
            ),
            consumers=tuple(raw.get("consumers", ())),
            origin=Origin.deferred(
                path=doc.path,
                line=lambda: positions.line_of(where),
                pointer=f"feature_sets[{i}]",
                keys=_KeyLines(positions, where, tuple(str(f["name"]) for f in raw["features"])),
            ),
        )

    @staticmethod
    def _check_unique(doc: Document, names: list[str], where: tuple[Any, ...], what: str) -> None:
        seen: dict[str, int] = {}
        for j, name in enumerate(names):
            if name in seen:
                raise doc.error(
                    f"duplicate {what} name '{name}' (first at index {seen[name]})",
                    (*where, j, "name"),
                )
            seen[name] = j

    def build(self, report: SourceReport, *, strict: bool = False) -> FeatureStore:
        """The store; a set with an error is recorded on ``report`` and left out, the
        store's other sets are kept (``strict``: the error fails the whole source)."""

        def problem(err: InputError) -> None:
            if strict:
                raise err
            report.problem(err)

        seen: dict[tuple[str, str | None], tuple[Document, int]] = {}
        built: list[tuple[FeatureSet, Document, int]] = []
        store_domain = self.attrs.get("domain")
        for fs, doc, i, inherits in self.sets:
            key = (fs.name, fs.version)
            if key in seen:
                first, at = seen[key]
                problem(
                    doc.error(
                        f"feature set '{fs.name}' version {fs.version or '(none)'} is declared twice "
                        f"(first at {first.path}:{first.line_of(('feature_sets', at))})",
                        ("feature_sets", i, "name"),
                    )
                )
                continue
            seen[key] = (doc, i)  # placed only if a duplicate names it
            missing = [j for j, entity in enumerate(fs.entities) if entity not in self.entities]
            if missing:
                known = ", ".join(sorted(self.entities)) or "none"
                problem(
                    doc.error(
                        f"entity '{fs.entities[missing[0]]}' is not declared in store '{self.name}' "
                        f"(declared: {known})",
                        ("feature_sets", i, "entities", missing[0]),
                    )
                )
                continue
            updates: dict[str, Any] = {
                "join_keys": tuple(c for e in fs.entities for c in self.entities[e].columns)
            }
            if fs.domain is None and store_domain:
                updates.update(domain=store_domain, domain_rule="declared")
            if fs.owner is None and self.attrs.get("owner"):
                updates["owner"] = self.attrs["owner"]
            # the store block's line of a key the set inherits, looked up only when asked
            inherited = tuple(key for key in inherits if self.attr_origin.get(key) == doc.path)
            if inherited and fs.origin is not None and isinstance(fs.origin.keys, _KeyLines):
                updates["origin"] = fs.origin.with_keys(fs.origin.keys.inheriting(inherited))
            built.append((replace(fs, **updates), doc, i))
        versions: dict[str, list[str | None]] = {}
        for name, version in seen:
            versions.setdefault(name, []).append(version)
        sets = []
        for fs, doc, i in built:
            try:
                sets.append(self._resolve_local_refs(fs, doc, i, seen, versions))
            except InputError as err:
                problem(err)
        consumers = self._build_consumers(seen, versions)
        return FeatureStore(
            kind=KIND,
            name=self.name,
            uri=self.uri,
            description=self.attrs.get("description", ""),
            domain=store_domain,
            owner=self.attrs.get("owner"),
            entities=tuple(self.entities.values()),
            feature_sets=tuple(sets),
            consumers=consumers,
            tags=_tags(self.attrs.get("tags")),
            extra={"platform": self.attrs["platform"]} if "platform" in self.attrs else {},
        )

    def _build_consumers(
        self, declared: Mapping[tuple[str, str | None], object], versions_of: Mapping[str, list[str | None]]
    ) -> tuple[Consumer, ...]:
        """Consumers with owner and domain defaulted from the store, each read of one of
        this store's sets pinned to a declared version, none declared twice."""
        seen: dict[str, str] = {}
        out = []
        for consumer, doc, i in self.consumers:
            if consumer.key in seen:
                raise doc.error(
                    f"consumer '{consumer.key}' is declared twice (first at {seen[consumer.key]})",
                    ("consumers", i, "name"),
                )
            seen[consumer.key] = f"{doc.path}:{doc.line_of(('consumers', i))}"
            reads = []
            for j, read in enumerate(consumer.reads):
                pinned = self._pin(read.feature_set, declared, versions_of)
                if pinned is None:
                    named = f"{read.feature_set.name}@{read.feature_set.version or 'latest'}"
                    raise doc.error(
                        f"reads feature set '{named}', which store '{self.name}' does not declare",
                        ("consumers", i, "reads", j, "feature_set"),
                    )
                reads.append(replace(read, feature_set=pinned))
            out.append(
                replace(
                    consumer,
                    reads=tuple(reads),
                    owner=consumer.owner or self.attrs.get("owner"),
                    domain=consumer.domain or self.attrs.get("domain"),
                )
            )
        return tuple(out)

    def _pin(
        self,
        ref: FeatureSetRef,
        declared: Mapping[tuple[str, str | None], object],
        versions_of: Mapping[str, list[str | None]],
    ) -> FeatureSetRef | None:
        """A reference into this store pinned to a declared version (the newest when it
        names none); None when the store does not declare it. Other stores' refs as given."""
        if ref.store_kind != KIND or ref.store != self.name:
            return ref
        versions = versions_of.get(ref.name, [])
        if ref.version is None and versions:
            return replace(ref, version=newest_version(versions))
        return ref if (ref.name, ref.version) in declared else None

    def _resolve_local_refs(
        self,
        fs: FeatureSet,
        doc: Document,
        i: int,
        declared: Mapping[tuple[str, str | None], object],
        versions_of: Mapping[str, list[str | None]],
    ) -> FeatureSet:
        """A derived-from naming this same store must name one of its sets; a reference
        without a version is pinned to the newest version declared."""
        if not fs.derived_from:
            return fs
        refs = []
        for j, ref in enumerate(fs.derived_from):
            if ref.store_kind != KIND or ref.store != self.name:
                refs.append(ref)
                continue
            versions = versions_of.get(ref.name, [])
            if ref.version is None and versions:
                refs.append(replace(ref, version=newest_version(versions)))
            elif (ref.name, ref.version) in declared:
                refs.append(ref)
            else:
                raise doc.error(
                    f"derived_from names feature set '{ref.name}@{ref.version or 'latest'}', "
                    f"which store '{self.name}' does not declare",
                    ("feature_sets", i, "derived_from", j),
                )
        return replace(fs, derived_from=tuple(refs))


_SET_KEYS = (
    "name", "version", "domain", "owner", "description", "tags", "entities", "timestamp_field",
    "ttl", "sources", "derived_from", "consumers",
)  # fmt: skip
_FEATURE_KEYS = ("name", "dtype", "description", "tags", "source_columns", "transformation")


class _KeyLines:
    """A set's key lines (``Origin.keys``), looked up on first use: only where a finding or a
    message needs a line does reading a manifest pay for positions (a set of 40 features has
    some 200 keys). It holds the file's positions and the set's feature names, not the
    file's data. Compared and hashed by identity; never copied (``asdict`` deep-copies)."""

    __slots__ = ("_doc", "_features", "_found", "_index", "_inherited", "_pairs", "_where")

    def __init__(
        self,
        doc: Document,
        where: tuple[Any, ...],
        features: tuple[str, ...],
        inherited: tuple[str, ...] = (),
    ) -> None:
        self._doc, self._where, self._features, self._inherited = doc, where, features, inherited
        self._pairs: tuple[tuple[str, int], ...] | None = None
        self._found: dict[str, int | None] | None = None
        self._index: dict[str, int] | None = None

    def inheriting(self, keys: tuple[str, ...]) -> _KeyLines:
        """These key lines, with ``keys`` (``owner``, ``domain``, ``tags``) placed on the
        store block the set inherits them from."""
        return _KeyLines(self._doc, self._where, self._features, (*self._inherited, *keys))

    def __iter__(self) -> Iterator[tuple[str, int]]:
        if self._pairs is None:
            self._pairs = (*_key_lines(self._doc, self._where, self._features), *self._store_lines())
        return iter(self._pairs)

    def _store_lines(self) -> Iterator[tuple[str, int]]:
        for key in self._inherited:
            line = self._doc.line_of(("store", key))
            if line is not None:
                yield key, line

    def line(self, name: str) -> int | None:
        """The line of one key (``owner``, ``features.NAME``, ``features.NAME.dtype``),
        looked up alone: a finding needs one or two keys of a set, not its 200."""
        if self._found is None:
            self._found = {}
        elif name in self._found:
            return self._found[name]
        line = self._lookup(name)
        self._found[name] = line
        return line

    def _lookup(self, name: str) -> int | None:
        if name in self._inherited:
            return self._doc.line_of(("store", name))
        if not name.startswith("features."):
            return self._doc.line_at((*self._where, name)) if name in _SET_KEYS else None
        if self._index is None:
            self._index = {}
            for number, feature in enumerate(self._features):
                self._index.setdefault(feature, number)
        rest = name.removeprefix("features.")
        j = self._index.get(rest)
        if j is not None:
            return self._doc.line_of((*self._where, "features", j))
        feature_name, _, key = rest.rpartition(".")
        j = self._index.get(feature_name)
        if j is None or key not in _FEATURE_KEYS:
            return None
        return self._doc.line_at((*self._where, "features", j, key))

    def __bool__(self) -> bool:
        return True

    def __deepcopy__(self, memo: dict[int, Any]) -> _KeyLines:
        return self


def _key_lines(
    doc: Document, where: tuple[Any, ...], features: tuple[str, ...]
) -> tuple[tuple[str, int], ...]:
    """The line of each key the set declares, and of each feature and its keys."""
    found: list[tuple[str, int]] = []

    def add(name: str, pointer: tuple[Any, ...]) -> None:
        line = doc.line_at(pointer)
        if line is not None:
            found.append((name, line))

    for key in _SET_KEYS:
        add(key, (*where, key))
    for j, feature in enumerate(features):
        prefix = f"features.{feature}"
        add(prefix, (*where, "features", j))
        for key in _FEATURE_KEYS:
            add(f"{prefix}.{key}", (*where, "features", j, key))
    return tuple(found)


_INHERITED = ("owner", "domain", "tags")
"""Store keys a feature set that does not declare them inherits."""


def _tags(raw: Mapping[str, Any] | None) -> dict[str, str]:
    if not raw:
        return {}
    return {str(k): _tag_value(v) for k, v in raw.items()}


def _tag_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _feature(raw: dict[str, Any]) -> Feature:
    return make_feature(
        raw["name"],
        raw["dtype"],
        raw["dtype"],
        raw.get("description", ""),
        _tags(raw.get("tags")),
        tuple(raw.get("source_columns", ())),
        raw.get("transformation"),
    )


def _source(raw: dict[str, Any]) -> SourceRef:
    return SourceRef(
        kind=raw.get("kind") or infer_source_kind(raw["uri"], raw.get("format")),
        uri=raw["uri"],
        name=raw.get("name"),
        format=raw.get("format"),
        columns=tuple(raw.get("columns", ())),
        timestamp_field=raw.get("timestamp_field"),
    )


def _parse_ref(doc: Document, where: tuple[Any, ...], text: str, store: str) -> FeatureSetRef:
    if text.startswith("featmesh://"):
        ref = parse_feature_set_qn(text)
        if ref is None:
            raise doc.error(
                f"'{text}' is not a feature set qualifiedName (featmesh://KIND/STORE/NAME@VERSION)",
                where,
            )
        return ref
    body, at, version = text.partition("@")
    parts = body.split("/")
    if len(parts) > 3 or not all(parts) or (at and not version):
        raise doc.error(
            f"'{text}' is not a feature set reference: use NAME[@VERSION], STORE/NAME[@VERSION], "
            "KIND/STORE/NAME[@VERSION] or a featmesh:// qualifiedName",
            where,
        )
    kind = parts[-3] if len(parts) == 3 else KIND
    ref_store = parts[-2] if len(parts) >= 2 else store
    return FeatureSetRef(store_kind=kind, store=ref_store, name=parts[-1], version=version or None)

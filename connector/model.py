"""The neutral model: what every source reader returns and every later stage reads.

Plain frozen, keyword-only dataclasses. Nothing here knows about Atlas, catalogs or
policies; what a catalog manages (guids, timestamps) never enters the model. The raw
fields of a store that the model has no place for stay in ``extra``.

Identity: a feature set is identified by ``(store kind, store name, name, version)``
and its qualifiedName is ``featmesh://<kind>/<store>/<name>@<version>``; a feature's
is the feature set's followed by ``#<feature>``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from functools import cached_property
from typing import Any
from urllib.parse import unquote

import msgspec

QN_SCHEME = "featmesh://"
PREVIOUS_HASH = "previous_content_hash"
DERIVED_EXTRA = frozenset({"parent_hashes", "published_content_hash", PREVIOUS_HASH})
"""``extra`` keys featmesh itself fills in (from run history or a catalog): not part of
the definition, so not part of its hash."""
UNVERSIONED = "latest"
REVISION_DIGITS = 12
"""Hex digits of a revision hash that name the revision (``3f9c2a1b7d4e``)."""
MACHINE_LOCAL = "machine_local"
"""Field metadata of a value that holds only on the machine that read it: never serialised."""

# --------------------------------------------------------------------------- set kinds

BATCH = "batch"
"""Computed from a dataset at rest (a table, files), materialised on a schedule."""
STREAM = "stream"
"""Computed from a stream (Kafka, Kinesis, a push source)."""
ON_DEMAND = "on_demand"
"""Computed at request time from request data and other sets (Feast on-demand views):
no event timestamp, no TTL of its own."""
PASSTHROUGH = "passthrough"
"""Computed from the observation data a training or scoring request brings (Feathr
``PASSTHROUGH`` anchors): no source dataset of its own."""
DERIVED = "derived"
"""Computed from other feature sets (Feathr derivations, Azure ML ``featureset`` sources)."""
SET_KINDS = (BATCH, STREAM, ON_DEMAND, PASSTHROUGH, DERIVED)

UNVERSIONED_STORES = frozenset({"feast", "feathr", "databricks"})
"""Store kinds whose feature sets have no version: a Feast view, a Feathr anchor, a
Databricks feature table is edited in place. featmesh keeps their definition history
itself (``revision`` in run records and the catalog)."""


def store_has_versions(store_kind: str) -> bool:
    return store_kind not in UNVERSIONED_STORES


# --------------------------------------------------------------------------- dtypes

SCALAR_DTYPES = (
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "float32",
    "float64",
    "decimal",
    "string",
    "bytes",
    "date",
    "timestamp",
)
"""The small dtype vocabulary every store's types are normalised to.

Containers are written ``array<T>`` (T a scalar), ``map`` and ``struct``; a type no
rule understands is ``unknown`` and keeps its raw spelling in ``Feature.raw_type``.
"""

_ALIASES = {
    "boolean": "bool",
    "bool": "bool",
    "tinyint": "int8",
    "byte": "int8",
    "int8": "int8",
    "smallint": "int16",
    "short": "int16",
    "int16": "int16",
    "int": "int32",
    "integer": "int32",
    "int32": "int32",
    "bigint": "int64",
    "long": "int64",
    "int64": "int64",
    "integral": "int64",
    "unix_timestamp": "timestamp",
    "float": "float32",
    "real": "float32",
    "float32": "float32",
    "double": "float64",
    "float64": "float64",
    "fractional": "float64",
    "numeric": "decimal",
    "decimal": "decimal",
    "number": "decimal",
    "string": "string",
    "str": "string",
    "varchar": "string",
    "char": "string",
    "text": "string",
    "binary": "bytes",
    "bytes": "bytes",
    "date": "date",
    "timestamp": "timestamp",
    "datetime": "timestamp",
    "timestamp_ntz": "timestamp",
    "timestamp_ltz": "timestamp",
    "map": "map",
    "struct": "struct",
}
_ARRAY = re.compile(r"^(?:array|list)\s*[<\[(]\s*(.+?)\s*[>\])]$", re.IGNORECASE)
_PARAMS = re.compile(r"\s*\(.*\)$")


def normalize_dtype(raw: str | None) -> str:
    """Map a store's spelling of a type to the featmesh vocabulary.

    >>> normalize_dtype("BIGINT"), normalize_dtype("decimal(10,2)"), normalize_dtype("Array<Double>")
    ('int64', 'decimal', 'array<float64>')
    """
    if raw is None:
        return "unknown"
    text = raw.strip()
    if not text:
        return "unknown"
    lowered = text.lower()
    array = _ARRAY.match(lowered)
    if array:
        inner = normalize_dtype(array.group(1))
        return f"array<{inner}>" if inner in SCALAR_DTYPES else "array<unknown>"
    if lowered.startswith(("map<", "map(")):
        return "map"
    if lowered.startswith(("struct<", "struct(", "row(")):
        return "struct"
    base = _PARAMS.sub("", lowered).strip()
    if base.endswith("_list"):  # Feast's ValueType spelling, e.g. FLOAT_LIST
        inner = normalize_dtype(base[: -len("_list")])
        return f"array<{inner}>" if inner in SCALAR_DTYPES else "array<unknown>"
    return _ALIASES.get(base, "unknown")


def is_known_dtype(dtype: str) -> bool:
    if dtype in SCALAR_DTYPES or dtype in ("map", "struct"):
        return True
    return dtype.startswith("array<") and dtype[6:-1] in SCALAR_DTYPES


# --------------------------------------------------------------------------- objects


KeyPlace = int | tuple[str, int]
"""Where a key is written: a line of the origin's file, or (another file, line)."""


def _found() -> tuple[tuple[str, KeyPlace], ...]:
    return ()


class LazyKeys:
    """Key lines (``Origin.keys``) found on first use by ``find``: a reader pays for
    positions only where a finding or a message needs one, never on a clean run.
    Truthy before it is computed; compared and hashed by identity; never copied (``asdict``
    deep-copies)."""

    __slots__ = ("_args", "_find", "_pairs")

    def __init__(self, find: Callable[..., Iterable[tuple[str, KeyPlace]]], *args: Any) -> None:
        # ``find(*args)``: a shared function and its arguments rather than a closure per
        # definition, so that a store of 10,000 sets makes 10,000 objects, not 40,000, for
        # the garbage collector to walk on the happy path
        self._find, self._args = find, args
        self._pairs: tuple[tuple[str, KeyPlace], ...] | None = None

    def __iter__(self) -> Iterator[tuple[str, KeyPlace]]:
        if self._pairs is None:
            self._pairs = tuple(self._find(*self._args))
            self._find, self._args = _found, ()
        return iter(self._pairs)

    def __bool__(self) -> bool:
        return True

    def __deepcopy__(self, memo: dict[int, Any]) -> LazyKeys:
        return self


class _Line:
    """``Origin.line``: a number, or worked out on first read from the function a reader
    gave (:meth:`Origin.deferred`), so that reading a mesh places no definition no
    message needs."""

    def __get__(self, obj: Any, objtype: Any = None) -> int | None:
        if obj is None:
            return None  # the field's default
        if "_at" in obj.__dict__:
            obj._settle()
        value = obj.__dict__.get("_line")
        if callable(value):
            value = obj.__dict__["_line"] = value()
        return value

    def __set__(self, obj: Any, value: int | None) -> None:
        obj.__dict__["_line"] = value


class _Text:
    """``Origin.path`` and ``Origin.pointer``: for an origin moved to a key
    (:meth:`Origin.at`), worked out with its line on first read of any of them."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, obj: Any, objtype: Any = None) -> str:
        if obj is None:
            raise AttributeError(self.slot)  # no class default: a dataclass field without one
        if "_at" in obj.__dict__:
            obj._settle()
        value: str = obj.__dict__[self.slot]
        return value

    def __set__(self, obj: Any, value: str) -> None:
        obj.__dict__[self.slot] = value


class _Pointer(_Text):
    def __get__(self, obj: Any, objtype: Any = None) -> str:
        if obj is None:
            return ""  # the field's default
        return super().__get__(obj, objtype)


@dataclass(frozen=True, kw_only=True)
class Origin:
    """Where a definition was read from, for messages and SARIF locations."""

    path: _Text = _Text()  # str
    line: _Line = _Line()  # int | None
    pointer: _Pointer = _Pointer()  # str
    keys: Iterable[tuple[str, KeyPlace]] = ()
    """The line of each key of the definition a reader knows (``owner``, ``ttl``,
    ``features.NAME``, ``features.NAME.dtype``...): where a finding about it is fixed.
    A key the definition inherits (a store block's ``owner``) has the inherited line.
    A key written in another file than ``path`` has ``(file, line)``; the key ``""`` is
    the definition itself (a Feast view's ``FeatureView(...)`` call in the repo's Python,
    while ``path`` is the registry it was read from)."""

    @classmethod
    def deferred(cls, *, line: Callable[[], int | None], **values: Any) -> Origin:
        """An origin whose line is found on first use (``line()``)."""
        origin = cls(**values)
        origin.__dict__["_line"] = line
        return origin

    def with_keys(self, keys: Iterable[tuple[str, KeyPlace]]) -> Origin:
        """This origin with other key lines (its line still found on first use)."""
        origin = Origin(path=self.path, pointer=self.pointer, keys=keys)
        origin.__dict__["_line"] = self.__dict__.get("_line")
        return origin

    def at(self, *names: str) -> Origin:
        """The origin moved to the first of ``names`` whose line is known (else where it
        is). Where that is gets worked out when the new origin's path, line or pointer is
        first read: a run places only the findings a report shows, not every one."""
        if not self.keys:
            return self
        moved = Origin.__new__(Origin)
        moved.__dict__.update(keys=self.keys, _at=(self, names))
        return moved

    def _settle(self) -> None:
        """Where an origin moved by :meth:`at` is."""
        base, names = self.__dict__.pop("_at")
        find = getattr(base.keys, "line", None)  # a reader's lazy lookup of one key
        if find is None:
            find = dict(base.keys).get
        for name in names:
            where = find(name)
            if where is not None:
                path, line = where if isinstance(where, tuple) else (base.path, where)
                self.__dict__.update(_path=path, _line=line, _pointer=name or base.pointer)
                return
        self.__dict__.update(_path=base.path, _line=base.line, _pointer=base.pointer)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where} ({self.pointer})" if self.pointer else where


@dataclass(frozen=True, kw_only=True)
class KeyColumn:
    """One column of a join key."""

    name: str
    dtype: str = "unknown"
    raw_type: str | None = None
    expression: str | None = None
    """The key is computed, not a column: the store's expression (a Feathr MVEL or SQL
    key); ``name`` is then its alias, or the expression where the store gives none."""
    description: str = ""
    """What the key holds, where the store says (a Feast entity's description)."""


@dataclass(frozen=True, kw_only=True)
class Entity:
    """A join-key entity of a store (Feast entity, Azure ML entity, ...)."""

    name: str
    columns: tuple[KeyColumn, ...]
    description: str = ""
    version: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SourceRef:
    """A dataset a feature set reads from.

    ``kind`` names the storage (``adls``, ``blob``, ``s3``, ``file``, ``delta``,
    ``table``, ``jdbc``, ``kafka``, ``bigquery``, ...), ``uri`` is a URI or a table
    name as the store wrote it, ``columns`` the columns used where known.
    """

    kind: str
    uri: str
    name: str | None = None
    format: str | None = None
    columns: tuple[str, ...] = ()
    timestamp_field: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    location: str | None = field(default=None, compare=False, metadata={MACHINE_LOCAL: True})
    """Where the data is on the machine that read the store (an absolute path), for a file
    of the store's own folder, which ``uri`` names by the store and its path inside it
    (``file:feast/PROJECT/data/x.parquet``): what profiling opens. Not part of the
    definition: never hashed, recorded or published, so two checkouts read alike."""


@dataclass(frozen=True, kw_only=True)
class FeatureSetRef:
    """A reference to a feature set, possibly in another store."""

    store_kind: str
    store: str
    name: str
    version: str | None = None

    @property
    def qualified_name(self) -> str:
        return feature_set_qn(self.store_kind, self.store, self.name, self.version)


@dataclass(frozen=True, kw_only=True)
class Feature:
    name: str
    dtype: str = "unknown"
    raw_type: str | None = None
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    source_columns: tuple[str, ...] = ()
    transformation: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


_FEATURE_FIELDS = (
    "name", "dtype", "raw_type", "description", "tags", "source_columns", "transformation", "extra",
)  # fmt: skip
assert tuple(f.name for f in fields(Feature)) == _FEATURE_FIELDS, "make_feature must set every field"
_new = object.__new__


def make_feature(
    name: str,
    dtype: str,
    raw_type: str | None,
    description: str,
    tags: Mapping[str, str],
    source_columns: tuple[str, ...],
    transformation: str | None,
) -> Feature:
    """The same Feature as ``Feature(name=..., ...)``, built in half the time: a frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``, and readers
    build a mesh's features by the hundred thousand (a manifest's, the published mesh's).
    Every field is given, in its type; ``extra`` is a new empty mapping."""
    feature = _new(Feature)
    feature.__dict__.update(
        name=name,
        dtype=dtype,
        raw_type=raw_type,
        description=description,
        tags=tags,
        source_columns=source_columns,
        transformation=transformation,
        extra={},
    )
    return feature


@dataclass(frozen=True, kw_only=True)
class FeatureSet:
    store_kind: str
    store: str
    name: str
    version: str | None = None
    kind: str = BATCH
    """How the set is computed: one of :data:`SET_KINDS`. Rules declare the kinds they
    apply to; on other kinds they are not applicable."""
    domain: str | None = None
    domain_rule: str | None = None
    """Which rule decided ``domain``: ``config``, ``declared``, ``tag`` or ``store``."""
    owner: str | None = None
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    entities: tuple[str, ...] = ()
    """Names of the store's entities this set is keyed by."""
    join_keys: tuple[KeyColumn, ...] = ()
    timestamp_field: str | None = None
    ttl_seconds: int | None = None
    features: tuple[Feature, ...] = ()
    sources: tuple[SourceRef, ...] = ()
    derived_from: tuple[FeatureSetRef, ...] = ()
    consumers: tuple[str, ...] = ()
    """Names of services, models or jobs known to read this set."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    origin: Origin | None = field(default=None, compare=False)

    @cached_property
    def qualified_name(self) -> str:
        return feature_set_qn(self.store_kind, self.store, self.name, self.version)

    @property
    def ref(self) -> FeatureSetRef:
        return FeatureSetRef(
            store_kind=self.store_kind, store=self.store, name=self.name, version=self.version
        )

    def feature_qn(self, feature: str) -> str:
        return f"{self.qualified_name}#{qn_part(feature)}"

    @property
    def content_hash(self) -> str:
        """A stable hash of the definition (domain resolution and origin excluded).

        Two reads of the same definition give the same hash whatever the order of
        tags or the file it came from; any change to what the set computes changes it.
        """
        return self._hashes[0]

    @property
    def revision_hash(self) -> str:
        """The hash that names the set's revision: its :attr:`content_hash` with the names
        of those who read it (``consumers``) left out, so that a new model or feature
        service reading the set leaves the revision others were trained on as it was.
        Equal to the content hash of a set nobody names as a reader."""
        return self._hashes[1]

    @property
    def revision(self) -> str:
        """The revision's name: the first :data:`REVISION_DIGITS` hex digits of
        :attr:`revision_hash`."""
        return self.revision_hash[:REVISION_DIGITS]

    def is_revision(self, named: str) -> bool:
        """Whether ``named`` (a revision, or a longer prefix of the hash) names the
        definition the set has now."""
        return len(named) >= REVISION_DIGITS and self.revision_hash.startswith(named.lower())

    @cached_property
    def _hashes(self) -> tuple[str, str]:
        """(content hash, revision hash), both from one build of the definition, which is
        not kept: a mesh of 10,000 sets would hold a second copy of itself as dicts."""
        try:
            return _both(self._definition(strict=True), _json_hash)
        except _NotPlainJson:  # a value msgspec would write otherwise than json.dumps
            return _both(self._definition(), stable_hash)

    def _definition(self, *, strict: bool = False) -> dict[str, Any]:
        """The definition both hashes are of. The origin is never read: reading its line
        would make a reader look up the position of every set on the happy path."""
        names = _field_names(FeatureSet) or ()
        body = {name: _plain(getattr(self, name), strict) for name in names if name not in _TRANSIENT}
        body["extra"] = {k: v for k, v in body.get("extra", {}).items() if k not in DERIVED_EXTRA}
        # fields added to the model later are left out at their default, so the hash
        # of an unchanged definition stays what earlier featmesh versions published
        if body.get("kind") == BATCH:
            body.pop("kind")
        for key in body.get("join_keys", ()):
            if key.get("expression") is None:
                key.pop("expression", None)
            if not key.get("description"):
                key.pop("description", None)
        return body


def _both(body: dict[str, Any], hashed: Callable[[Any], str]) -> tuple[str, str]:
    content = hashed(body)
    if not body.get("consumers"):
        return content, content
    return content, hashed({**body, "consumers": []})


_TRANSIENT = frozenset({"origin", "domain", "domain_rule"})
"""FeatureSet fields that are not part of its definition's hash."""


CONSUMER_KINDS = (
    "model",
    "feature-service",
    "serving-endpoint",
    "saved-dataset",
    "feature-spec",
    "online-table",
    "job",
)
"""What reads feature sets: a trained model, a Feast feature service, a model serving
endpoint, a saved (training) dataset, a Databricks feature spec, an online table, a job."""


@dataclass(frozen=True, kw_only=True)
class ConsumerRead:
    """The features one consumer reads from one feature set (empty: all of them)."""

    feature_set: FeatureSetRef
    features: tuple[str, ...] = ()
    revision: str | None = None
    """The set's revision the consumer was trained on (:attr:`FeatureSet.revision`, or a
    longer prefix of its :attr:`~FeatureSet.revision_hash`), where it names one."""


@dataclass(frozen=True, kw_only=True)
class Consumer:
    """Something that reads feature sets: a model, a feature service, an endpoint...

    ``registered_at`` says where the store or a registry records it (an MLflow model
    URI, a Unity Catalog name, an Azure ML asset id, ``feast:<project>``); ``serves``
    names other consumers of the same store it stands in front of (an endpoint serving
    a model, a dataset retrieved through a feature service), as ``KIND/NAME[@VERSION]``.
    """

    kind: str
    name: str
    version: str | None = None
    owner: str | None = None
    domain: str | None = None
    description: str = ""
    registered_at: str | None = None
    reads: tuple[ConsumerRead, ...] = ()
    serves: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    origin: Origin | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """``KIND/NAME[@VERSION]``, how ``serves`` names a consumer."""
        return f"{self.kind}/{self.name}" + (f"@{self.version}" if self.version else "")


def consumer_qn(store_kind: str, store: str, kind: str, name: str, version: str | None) -> str:
    """``featmesh://<store kind>/<store>/consumer/<kind>/<name>@<version>``."""
    return (
        f"{store_qn(store_kind, store)}/consumer/{qn_part(kind)}/{qn_part(name)}"
        f"@{qn_part(version or UNVERSIONED)}"
    )


@dataclass(frozen=True, kw_only=True)
class FeatureStore:
    """One store (a Feast project, an Azure ML feature store, a manifest's store...)."""

    kind: str
    name: str
    uri: str
    description: str = ""
    domain: str | None = None
    owner: str | None = None
    entities: tuple[Entity, ...] = ()
    feature_sets: tuple[FeatureSet, ...] = ()
    consumers: tuple[Consumer, ...] = ()
    """Models, services, endpoints and datasets of the store that read its (or other
    stores') feature sets."""
    tags: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        return store_qn(self.kind, self.name)

    def consumer_qn(self, consumer: Consumer) -> str:
        return consumer_qn(self.kind, self.name, consumer.kind, consumer.name, consumer.version)

    def entity(self, name: str) -> Entity | None:
        return next((e for e in self.entities if e.name == name), None)


# --------------------------------------------------------------------------- names


_RESERVED = {"%": "%25", "/": "%2F", "@": "%40", "#": "%23", " ": "%20"}
_RESERVED_IN = re.compile("[%/@# ]").search


def qn_part(name: str) -> str:
    """A name as one part of a qualifiedName: the separators ``/ @ #`` (and ``%`` and
    spaces) percent-encoded, so a store's odd name cannot point a set elsewhere."""
    if _RESERVED_IN(name) is None:
        return name
    return "".join(_RESERVED.get(c, c) for c in name)


def store_qn(kind: str, store: str) -> str:
    return f"{QN_SCHEME}{qn_part(kind)}/{qn_part(store)}"


def feature_set_qn(kind: str, store: str, name: str, version: str | None) -> str:
    return f"{store_qn(kind, store)}/{qn_part(name)}@{qn_part(version or UNVERSIONED)}"


def entity_qn(kind: str, store: str, entity: str) -> str:
    return f"{store_qn(kind, store)}/entity/{qn_part(entity)}"


_QN = re.compile(r"^featmesh://(?P<kind>[^/]+)/(?P<store>[^/]+)/(?P<name>[^/@#]+)@(?P<version>[^/#]+)$")


def parse_feature_set_qn(qn: str) -> FeatureSetRef | None:
    """The reference a feature set qualifiedName stands for, or None."""
    match = _QN.match(qn)
    if not match:
        return None
    version = unquote(match["version"])
    return FeatureSetRef(
        store_kind=unquote(match["kind"]),
        store=unquote(match["store"]),
        name=unquote(match["name"]),
        version=None if version == UNVERSIONED else version,
    )


# --------------------------------------------------------------------------- serialisation


def to_dict(obj: Any) -> Any:
    """A JSON-ready dict of a model object (tuples become lists, mappings dicts, an
    Origin without its key lines). What ``dataclasses.asdict`` and a pass turning tuples
    into lists gave, in one pass and without deep copies: the content hash of every set
    of every scan is computed from it."""
    return _plain(obj)


_ORIGIN_FIELDS = ("path", "line", "pointer", "keys")
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """The fields to serialise of a dataclass type (None: not a dataclass); an Origin's key
    lines are for messages of this run, and a source's ``location`` holds on this machine
    only: neither is stored or hashed."""
    try:
        return _FIELD_NAMES[cls]
    except KeyError:
        names = (
            tuple(f.name for f in fields(cls) if not f.metadata.get(MACHINE_LOCAL))
            if is_dataclass(cls)
            else None
        )
        if names == _ORIGIN_FIELDS:
            names = names[:-1]
        _FIELD_NAMES[cls] = names
        return names


_LEAVES = frozenset({str, int, float, bool, type(None)})
"""Types ``_plain`` returns as they are: tested before any call, so that the leaves of a
set's definition (most of its values) cost no call of their own."""
_JSON_LEAVES = frozenset({str, int, bool, type(None)})
"""The leaves msgspec writes as ``json.dumps`` does (a float is looked at first)."""


def _plain(value: Any, strict: bool = False) -> Any:
    """``value`` as plain data: dataclasses as dicts of their fields, tuples as lists.

    ``strict``: for :func:`_json_hash`, only leaves msgspec writes as ``json.dumps`` would
    (strings, ints, booleans, None, and floats ``repr`` writes without an exponent: msgspec
    writes ``1e16`` for ``1e+16`` and null for NaN); any other leaf, a subclass of those
    types (an enum) included, raises :class:`_NotPlainJson`. A feature msgspec can write
    whole (:func:`_json_feature`) is kept as it is."""
    kind = type(value)
    leaves = _JSON_LEAVES if strict else _LEAVES
    if strict and kind is Feature and _json_feature(value):
        return value  # msgspec writes its fields, keys sorted, as they would be here
    if kind is tuple or kind is list:  # before the (slow) ABC test below
        return [v if type(v) in leaves else _plain(v, strict) for v in value]
    if kind is dict:
        return {str(k): v if type(v) in leaves else _plain(v, strict) for k, v in value.items()}
    if strict and kind is float:
        text = float.__repr__(value)
        if "e" in text or "n" in text:  # 1e+16, 1e-05, nan, inf
            raise _NotPlainJson
        return value
    names = _field_names(kind)
    if names is not None:
        out = {}
        for name in names:
            item = getattr(value, name)
            out[name] = item if type(item) in leaves else _plain(item, strict)
        return out
    if isinstance(value, Mapping):
        return {str(k): v if type(v) in leaves else _plain(v, strict) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in leaves else _plain(v, strict) for v in value]
    if strict and kind not in leaves:
        raise _NotPlainJson
    return value


def stable_hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _NotPlainJson(Exception):
    """A definition holds a value :func:`_json_hash` might write otherwise than
    :func:`stable_hash`: it is hashed the general way."""


_SORTED_JSON = msgspec.json.Encoder(order="sorted")


def _json_feature(f: Feature) -> bool:
    """Whether msgspec can write the feature itself (most are: forty a set, the bulk of a
    definition): no ``extra``, and its scalars, tags and columns all leaves it writes as
    ``json.dumps`` does, in a dict and a tuple."""
    if f.extra or type(f.tags) is not dict or type(f.source_columns) is not tuple:
        return False
    leaves = _JSON_LEAVES
    if not (
        type(f.name) in leaves
        and type(f.dtype) in leaves
        and type(f.raw_type) in leaves
        and type(f.description) in leaves
        and type(f.transformation) in leaves
    ):
        return False
    return all(type(v) in leaves for v in f.tags.values()) and all(
        type(c) in leaves for c in f.source_columns
    )


def _json_hash(value: Any) -> str:
    """:func:`stable_hash` of what ``_plain(..., strict=True)`` gave, encoded by msgspec in C (five
    times ``json.dumps``'s speed with sorted keys): the same text when it is ASCII without
    DEL, which ``json.dumps`` escapes (as it escapes every character past ASCII); else
    :class:`_NotPlainJson`."""
    raw = _SORTED_JSON.encode(value)
    if not raw.isascii() or b"\x7f" in raw:
        raise _NotPlainJson
    return hashlib.sha256(raw).hexdigest()


def feature_set_from_dict(data: Mapping[str, Any]) -> FeatureSet:
    """Rebuild a FeatureSet from ``to_dict`` output (run records, tests)."""
    known = {f.name for f in fields(FeatureSet)}
    values = {k: v for k, v in data.items() if k in known}
    values["features"] = tuple(
        Feature(**{**f, "source_columns": tuple(f.get("source_columns", ()))})
        for f in data.get("features", ())
    )
    values["sources"] = tuple(
        SourceRef(**{**s, "columns": tuple(s.get("columns", ()))}) for s in data.get("sources", ())
    )
    values["join_keys"] = tuple(KeyColumn(**k) for k in data.get("join_keys", ()))
    values["derived_from"] = tuple(FeatureSetRef(**r) for r in data.get("derived_from", ()))
    values["entities"] = tuple(data.get("entities", ()))
    values["consumers"] = tuple(data.get("consumers", ()))
    origin = data.get("origin")
    if origin:
        origin = {**origin, "keys": tuple((str(k), int(v)) for k, v in origin.get("keys", ()))}
    values["origin"] = Origin(**origin) if origin else None
    return FeatureSet(**values)


def with_domain(fs: FeatureSet, domain: str | None, rule: str | None) -> FeatureSet:
    return _carrying_hashes(fs, replace(fs, domain=domain, domain_rule=rule))


def with_derived(fs: FeatureSet, **values: Any) -> FeatureSet:
    """The set with derived ``extra`` keys (:data:`DERIVED_EXTRA`) set; its hashes, which
    leave them out, are carried rather than computed again."""
    unknown = set(values) - DERIVED_EXTRA
    if unknown:
        raise ValueError(f"not derived extra keys: {sorted(unknown)}")
    return _carrying_hashes(fs, replace(fs, extra={**fs.extra, **values}))


def _carrying_hashes(old: FeatureSet, new: FeatureSet) -> FeatureSet:
    """``new`` with ``old``'s hashes (which leave out its domain and derived extra keys),
    computed now if they were not yet: both copies of a set stay in use (a store's sets,
    the sets the evaluation reads) and hash it once."""
    new.__dict__["_hashes"] = old._hashes
    return new


def newest_version(versions: list[str | None]) -> str | None:
    """The newest of a set's versions: numeric versions in numeric order, above others."""

    def order(v: str | None) -> tuple[int, int, str]:
        if v is None:
            return (0, 0, "")
        return (2, int(v), v) if v.isdigit() else (1, 0, v)

    return max(versions, key=order)


# --------------------------------------------------------------------------- contracts


@dataclass(frozen=True, kw_only=True)
class ContractTerms:
    """What a data product's contract promises about one table it publishes."""

    table: str
    """The table or path feature sets name as their source (the contract's physicalName)."""
    contract: str
    version: str
    status: str
    columns: Mapping[str, str] = field(default_factory=dict)
    """Column name -> featmesh dtype (``unknown`` where the contract's types say nothing)."""
    freshness_seconds: int | None = None
    path: str = ""


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True, kw_only=True)
class PiiMatch:
    """A PII pattern seen in a column's sample: which pattern and the share of values
    that matched. Never a value."""

    pattern: str
    share: float
    sampled: int


@dataclass(frozen=True, kw_only=True)
class ColumnProfile:
    name: str
    dtype: str
    row_count: int
    null_count: int
    distinct_count: int | None = None
    distinct_exact: bool = True
    distinct_error: float | None = None
    """The relative standard error of an estimated distinct count (None when exact)."""
    min: Any = None
    max: Any = None
    mean: float | None = None
    stddev: float | None = None
    quantiles: Mapping[str, Any] = field(default_factory=dict)
    """``{"p01": .., "p25": .., "p50": .., "p75": .., "p99": ..}`` for numbers."""
    top_values: tuple[tuple[str, int], ...] = ()
    top_values_exact: bool = True
    """False when the column had too many distinct values to count them all: the top
    values then come from the row sample, their counts scaled to the column."""
    histogram: tuple[tuple[float, int], ...] = ()
    """``(lower bound, count)`` per bin, for numeric drift."""
    pii: tuple[PiiMatch, ...] = ()
    sample_size: int | None = None
    """Non-null values in the row sample that quantiles, histogram and PII came from."""

    @property
    def null_fraction(self) -> float:
        return self.null_count / self.row_count if self.row_count else 0.0

    @property
    def distinct_ratio(self) -> float | None:
        non_null = self.row_count - self.null_count
        if self.distinct_count is None or non_null <= 0:
            return None
        return self.distinct_count / non_null


@dataclass(frozen=True, kw_only=True)
class DatasetProfile:
    """Statistics of the data behind a feature set (or any dataset)."""

    uri: str
    row_count: int
    columns: tuple[ColumnProfile, ...]
    profiled_at: str
    timestamp_column: str | None = None
    newest_timestamp: str | None = None
    freshness_lag_seconds: float | None = None
    sampled_rows: int | None = None
    fingerprint: str | None = None
    """A cheap fingerprint of the data (file sizes and times), for incremental scans."""
    engine: str | None = None
    """Where the metrics were computed: None or ``local`` (pyarrow in featmesh's process),
    ``duckdb``, ``spark``, ``databricks-sql`` (pushed down as SQL)."""
    metrics_source: str | None = None
    """``lakehouse-monitoring`` when the metrics were read from a Databricks Lakehouse
    Monitoring monitor's metric tables instead of being computed (None: computed)."""
    metrics_refreshed_at: str | None = None
    """When that monitor last refreshed its metrics (ISO 8601, UTC)."""
    missing: tuple[str, ...] = ()
    """What the metrics source did not have, and how it was filled in or that it is absent."""
    drift: tuple[FeatureDrift, ...] = ()
    """Drift the metrics source computed itself (a monitor's drift table), used instead of
    featmesh's own comparison with the previous profile."""

    def column(self, name: str) -> ColumnProfile | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True, kw_only=True)
class FeatureDrift:
    """Drift of one column between the last two profiles."""

    column: str
    metric: str  # "psi" for numeric histograms, "frequency_shift" for categories
    value: float
    previous_profiled_at: str

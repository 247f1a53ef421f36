"""The embedded catalog: one SQLite file holding typedefs, entities as Atlas JSON,
relationships, classifications and the history of runs.

It behaves like Atlas where featmesh relies on Atlas's rules: an entity of an unknown
type, one missing a required attribute, a relationship to an entity of the wrong type
or to one that does not exist, and a classification on a type its ``entityTypes`` do
not allow are refused, and an apply is all-or-nothing (one transaction).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from featmesh.connector import progress, redact
from featmesh.connector.catalog.base import ApplyResult
from featmesh.connector.catalog.plan import EntityJson, Key, Plan, owned
from featmesh.connector.errors import CatalogError, InputError
from featmesh.connector.mapping.business import owned_values
from featmesh.connector.mapping.entities import DATA_PRODUCT, FEATMESH_TYPES, FEATURE, FEATURE_SET, MODEL
from featmesh.connector.mapping.reverse import (
    feature_set_from_index,
    feature_sets_from_entities,
    index_document,
)
from featmesh.connector.model import FeatureSet, parse_feature_set_qn, store_qn
from featmesh.connector.runreport import retired_classification, utcnow
from featmesh.typedefs import SECTIONS, TypeSystem, load_base_typedefs, load_typedefs
from featmesh.typedefs.diff import refused_changes

log = logging.getLogger(__name__)
PRODUCT_COLUMNS = "featmesh_data_product_columns"
"""The relationship type holding a placeholder's columns (typedefs/relationships.json)."""

SCHEMA_VERSION = "3"
READS = ("1", "2", "3")
"""Schema versions this featmesh opens. Version 1 (before the runs' briefs and the remote
catalogs' mirror) and version 2 (before the records' parts, :data:`RUN_PARTS`) are read as
they are, and upgraded in place when opened for writing (their runs stay whole records,
read as before); an older featmesh refuses a newer version with a message rather than
failing to record a run, or reading a record without its parts."""
CATEGORIES = SECTIONS

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS typedefs (
    name TEXT PRIMARY KEY, category TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entities (
    guid TEXT PRIMARY KEY,
    type_name TEXT NOT NULL,
    qualified_name TEXT NOT NULL,
    attributes TEXT NOT NULL,
    relationship_attributes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    run_id TEXT,
    UNIQUE (type_name, qualified_name));
CREATE INDEX IF NOT EXISTS entities_qn ON entities (qualified_name);
CREATE INDEX IF NOT EXISTS entities_scope ON entities (qualified_name, type_name, guid);
CREATE TABLE IF NOT EXISTS relationships (
    relationship_type TEXT NOT NULL,
    from_guid TEXT NOT NULL,
    attribute TEXT NOT NULL,
    to_guid TEXT NOT NULL,
    PRIMARY KEY (from_guid, attribute, to_guid));
CREATE INDEX IF NOT EXISTS relationships_to ON relationships (to_guid);
CREATE TABLE IF NOT EXISTS classifications (
    entity_guid TEXT NOT NULL, type_name TEXT NOT NULL, attributes TEXT NOT NULL,
    PRIMARY KEY (entity_guid, type_name));
CREATE TABLE IF NOT EXISTS profiles (
    run_id TEXT NOT NULL, feature_set TEXT NOT NULL, source TEXT NOT NULL,
    profiled_at TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (feature_set, source, run_id));
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, command TEXT, started_at TEXT, finished_at TEXT,
    status TEXT, record TEXT NOT NULL, brief TEXT);
CREATE TABLE IF NOT EXISTS published_sets (
    qualified_name TEXT PRIMARY KEY,
    store_kind TEXT NOT NULL,
    store TEXT NOT NULL,
    domain TEXT,
    content_hash TEXT,
    body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_parts (
    run_id TEXT NOT NULL, part TEXT NOT NULL, digest TEXT NOT NULL,
    PRIMARY KEY (run_id, part));
CREATE TABLE IF NOT EXISTS part_bodies (digest TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS remote_entities (
    catalog TEXT NOT NULL,
    type_name TEXT NOT NULL,
    qualified_name TEXT NOT NULL,
    body TEXT,
    PRIMARY KEY (catalog, type_name, qualified_name));
CREATE INDEX IF NOT EXISTS remote_entities_qn ON remote_entities (catalog, qualified_name);
CREATE TABLE IF NOT EXISTS remote_scopes (
    catalog TEXT NOT NULL, scope TEXT NOT NULL, synced_at TEXT NOT NULL,
    PRIMARY KEY (catalog, scope));
CREATE TABLE IF NOT EXISTS remote_sets (
    catalog TEXT NOT NULL,
    qualified_name TEXT NOT NULL,
    store_kind TEXT NOT NULL,
    store TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (catalog, qualified_name));
"""
"""``remote_*`` (in a remote catalog's run history only): what featmesh last wrote to each
remote catalog, so that a rescan asks the catalog only about what changed
(``connector.catalog.mirror``)."""

GENERATION = "generation"
"""``meta`` key counting the applies that wrote to the catalog (:meth:`LocalCatalog.generation`)."""

RUN_PARTS = ("evaluation.findings", "evaluation.sets", "summary.plan")
"""The large pieces of a run record (``section.key``), each stored apart from the rest of
the record in ``run_parts`` (schema version 3), so that a reader decodes only the pieces it
uses: the report shows the findings but never the plan, ``check`` reads only the last
scan's sets. :meth:`LocalCatalog.run` puts them back; a run recorded before version 3 is
one whole record. Each part's text is kept once in ``part_bodies``, by its digest: the
findings of a rescan that changed nothing are those of the run before it, not a copy."""

INDEXED = "published_sets"
"""``meta`` key present once the ``published_sets`` index has been built: one row per
published feature set, holding what the mesh-wide rules read of it (the set's and its
features' attributes) as one compact JSON document, so that reading the rest of the mesh
decodes one row per set instead of every feature entity. Its value is the rows' form,
:data:`INDEX_FORM`."""

INDEX_FORM = "2"
"""The form of the ``published_sets`` rows this featmesh writes: ``2`` holds each feature
under the model's own field names (``members``), which decode straight into features.
Rows of form ``1`` (``features`` as entity attributes) are still read, the slower way,
and the first writable open rebuilds them, once."""


_ENDS = frozenset({"inputs", "outputs"})
"""The attributes of a process (Atlas ``Process``) that name the datasets at its ends."""


class StoredEntity(Mapping[str, Any]):
    """An entity the local catalog holds, as Atlas JSON decoded on first use: a plan of an
    unchanged mesh compares most entities by their stored text (:meth:`same_as`) and never
    decodes them."""

    __slots__ = (
        "_attributes", "_business", "_classifications", "_decoded", "_guid", "_load", "_relationships",
        "_type",
    )  # fmt: skip

    def __init__(
        self,
        type_name: str,
        guid: str,
        attributes: str | None,
        relationships: str | None,
        classifications: Sequence[tuple[str, str]],
        business: Sequence[tuple[str, str]] = (),
        load: Callable[[Sequence[StoredEntity]], None] | None = None,
    ) -> None:
        self._type, self._guid = type_name, guid
        self._attributes, self._relationships = attributes, relationships
        self._classifications: Any = classifications
        self._business = business
        """(group name, attributes JSON) of its business metadata."""
        self._decoded: dict[str, Any] | None = None
        self._load = load
        """Reads the rest of the entity (``attributes`` None: only its key was read), for
        :meth:`LocalCatalog.fill` to read many at once."""

    @property
    def guid(self) -> str:
        return self._guid

    @property
    def deferred(self) -> bool:
        """Only its key and guid are read so far."""
        return self._attributes is None

    def filled(
        self,
        attributes: str,
        relationships: str,
        classifications: Sequence[tuple[str, str]],
        business: Sequence[tuple[str, str]],
    ) -> None:
        self._attributes, self._relationships = attributes, relationships
        self._classifications, self._business, self._load = classifications, business, None

    def _read(self) -> None:
        if self._attributes is None and self._load is not None:
            self._load([self])

    def same_as(self, desired: Mapping[str, Any]) -> bool:
        """``desired``'s attributes, references and featmesh business metadata are exactly
        what is stored (as written)."""
        self._read()
        if not _stored_as(desired.get("attributes", {}), self._attributes) or not _stored_as(
            desired.get("relationshipAttributes", {}), self._relationships
        ):
            return False
        wanted = owned_values(desired)
        return wanted is None or owned_values(self._full()) == wanted

    def _held(self) -> list[dict[str, Any]]:
        self._read()
        if isinstance(self._classifications, tuple | list) and (
            not self._classifications or isinstance(self._classifications[0], tuple)
        ):
            self._classifications = [
                {"typeName": t, "attributes": json.loads(a)} for t, a in self._classifications
            ]
        return list(self._classifications)

    def _full(self) -> dict[str, Any]:
        if self._decoded is None:
            self._read()
            entity: dict[str, Any] = {
                "typeName": self._type,
                "guid": self._guid,
                "attributes": json.loads(self._attributes or "{}"),
                "relationshipAttributes": json.loads(self._relationships or "{}"),
            }
            classifications = self._held()
            if classifications:
                entity["classifications"] = classifications
            if self._business:
                entity["businessAttributes"] = {name: json.loads(a) for name, a in self._business}
            self._decoded = entity
        return self._decoded

    def __getitem__(self, key: str) -> Any:
        if self._decoded is None:
            if key == "guid":
                return self._guid
            if key == "typeName":
                return self._type
            if key == "classifications":
                held = self._held()
                if not held:
                    raise KeyError(key)
                return held
        return self._full()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._full())

    def __len__(self) -> int:
        return len(self._full())

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        import copy

        return copy.deepcopy(self._full(), memo)


def _last_scan_of(record: Mapping[str, Any], catalog: str | None, *, brief: bool = False) -> bool:
    """A scan of ``catalog`` (any, when None) recorded with an evaluation (in a brief:
    marked as holding one)."""
    evaluation = record.get("evaluation")
    return (
        record.get("command") == "scan"
        and (isinstance(evaluation, Mapping) if brief else bool(evaluation))
        and (catalog is None or record.get("catalog") == catalog)
    )


BRIEF_KEYS = ("run_id", "command", "started_at", "finished_at", "status", "catalog", "dry_run")


def brief_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a list of runs shows of each (the report's score history): the header, the
    summary's scores, and an empty ``evaluation`` when the run holds one."""
    brief: dict[str, Any] = {k: record[k] for k in BRIEF_KEYS if k in record}
    summary = record.get("summary")
    if isinstance(summary, Mapping) and "score" in summary:
        brief["summary"] = {"score": summary["score"]}
    if isinstance(record.get("evaluation"), Mapping):
        brief["evaluation"] = {}
    return brief


class RunRecord(Mapping[str, Any]):
    """A run record answered from its brief for the header (:data:`BRIEF_KEYS`), and
    decoded whole on the first question about anything else."""

    __slots__ = ("_brief", "_load", "_whole")

    def __init__(self, brief: Mapping[str, Any], load: Callable[[], dict[str, Any] | None]) -> None:
        self._brief, self._load = brief, load
        self._whole: dict[str, Any] | None = None

    def _record(self) -> dict[str, Any]:
        if self._whole is None:
            self._whole = self._load() or {}
        return self._whole

    def __getitem__(self, key: str) -> Any:
        if key in BRIEF_KEYS and self._whole is None:
            return self._brief[key]  # absent from the brief: absent from the record
        return self._record()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._record())

    def __len__(self) -> int:
        return len(self._record())


def parse_local_uri(uri: str) -> Path:
    from featmesh.connector.catalog import DEFAULT_LOCAL_PATH

    _, _, rest = uri.partition(":")
    return Path(rest or DEFAULT_LOCAL_PATH)


def open_local(uri: str, *, read_only: bool = False, **_: Any) -> LocalCatalog:
    """Open ``local[:PATH]``; options meant for remote catalogs (batch size) do not apply."""
    return LocalCatalog(parse_local_uri(uri), read_only=read_only)


class LocalCatalog:
    """SQLite-backed catalog. ``read_only`` never creates or changes the file: a
    missing file opens as an empty in-memory catalog holding featmesh's types."""

    transactional = True
    reads_scopes_whole = True

    def __init__(self, path: Path, *, read_only: bool = False):
        self.path = path
        self.uri = f"local:{path}"
        self.read_only = read_only
        self._lock: Any = None
        writable = not read_only or not path.exists()
        try:
            if read_only and not path.exists():
                self.db = sqlite3.connect(":memory:")
                self._init()
                self._store_typedefs(_shipped_typedefs())
            elif read_only:
                self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._lock = _writer_lock(path)
                self.db = _connect(path)
                self._init()
            self.db.row_factory = sqlite3.Row
            self._check_schema()
            if writable:
                self._migrate()
            self._indexed = self._index_built()
        except sqlite3.DatabaseError as err:
            self._unlock()
            raise _open_error(path, err) from None
        except OSError as err:
            self._unlock()
            raise InputError(f"cannot open catalog: {err.strerror}", path=str(path)) from None
        except InputError:
            self._unlock()
            raise
        self._types: TypeSystem | None = None
        self._business = _has_table(self.db, "business_metadata")
        self._parts = _has_table(self.db, "run_parts")
        self._read_parts: dict[str, tuple[str, Any]] = {}
        """(digest, value) of the last text of each :data:`RUN_PARTS` part decoded: a run
        recording an equal part stores that digest again without encoding it."""

    # ------------------------------------------------------------------ setup

    def _init(self) -> None:
        with self.db:
            self.db.executescript(_DDL)
            self.db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (SCHEMA_VERSION,),
            )

    def _migrate(self) -> None:
        """Add what a catalog written by an earlier featmesh lacks: the business metadata
        table, the runs table's ``brief`` column (a run's header and scores, read without the
        record), and the ``published_sets`` index (built once: later applies keep it up to
        date in their own transaction)."""
        if not self._has_brief():
            with self.db:
                self.db.execute("ALTER TABLE runs ADD COLUMN brief TEXT")
        with self.db:
            self.db.execute(_BUSINESS_DDL)
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION,))
        if self._index_form() == INDEX_FORM:
            return
        with self.db:
            _index_sets(self.db, None)
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (INDEXED, INDEX_FORM))

    def _has_brief(self) -> bool:
        return any(row[1] == "brief" for row in self.db.execute("PRAGMA table_info(runs)"))

    def _index_form(self) -> str | None:
        """The form of the ``published_sets`` rows (:data:`INDEX_FORM`); None before the
        index is built."""
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", (INDEXED,)).fetchone()
        except sqlite3.OperationalError:  # no meta table: _check_schema says what is wrong
            return None
        return None if row is None else row[0]

    def _index_built(self) -> bool:
        return self._index_form() is not None

    def _check_schema(self) -> None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None or row[0] not in READS:
            found = row[0] if row else "none"
            known = f"{', '.join(READS[:-1])} and {READS[-1]}"
            raise InputError(
                f"catalog schema version {found}, this featmesh reads {known}",
                path=str(self.path),
            )

    def close(self) -> None:
        self.db.close()
        self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the descriptor releases the lock
            self._lock = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise CatalogError(f"{self.uri} is open read-only")
        try:
            with self.db:
                yield self.db
        except sqlite3.DatabaseError as err:
            if _damaged(err):
                raise damaged(self.path, err) from None
            raise CatalogError(f"{self.uri}: write failed, nothing was written: {err}") from None
        except sqlite3.Error as err:
            raise CatalogError(f"{self.uri}: write failed, nothing was written: {err}") from None

    # ------------------------------------------------------------------ typedefs

    def typedefs(self) -> dict[str, list[dict[str, Any]]]:
        doc: dict[str, list[dict[str, Any]]] = {c: [] for c in CATEGORIES}
        for row in self.db.execute("SELECT category, body FROM typedefs ORDER BY name"):
            doc[row["category"]].append(json.loads(row["body"]))
        return doc

    def type_system(self) -> TypeSystem:
        if self._types is None:
            self._types = TypeSystem.from_documents(self.typedefs())
        return self._types

    def sync_typedefs(self, *, dry_run: bool = False) -> dict[str, list[str]]:
        return self.add_typedefs(_shipped_typedefs(), dry_run=dry_run)

    def add_typedefs(self, doc: Mapping[str, Any], *, dry_run: bool = False) -> dict[str, list[str]]:
        """Create missing types and update changed ones (as Atlas's typedef API would,
        refusing the same changes: ``typedefs.diff``)."""
        changes: dict[str, list[str]] = {"create": [], "update": []}
        stored = {row["name"]: row["body"] for row in self.db.execute("SELECT name, body FROM typedefs")}
        for category in CATEGORIES:
            for typedef in doc.get(category, []):
                body = json.dumps(typedef, sort_keys=True)
                if typedef["name"] not in stored:
                    changes["create"].append(typedef["name"])
                elif stored[typedef["name"]] != body:
                    changes["update"].append(typedef["name"])
        if changes["update"]:
            refused = refused_changes(self.typedefs(), doc)
            if refused:
                raise CatalogError(
                    f"{self.uri}: the catalog's types cannot be updated in place, nothing was written: "
                    + "; ".join(refused)
                )
        if (changes["create"] or changes["update"]) and not dry_run and not self.read_only:
            merged = self.typedefs()
            for category in CATEGORIES:
                names = {t["name"] for t in doc.get(category, [])}
                merged[category] = [t for t in merged[category] if t["name"] not in names]
                merged[category].extend(doc.get(category, []))
            TypeSystem.from_documents(merged)  # refuse a document that does not resolve
            with self._transaction() as db:
                self._store_typedefs(doc, db)
            self._types = None
        return changes

    def _store_typedefs(self, doc: Mapping[str, Any], db: sqlite3.Connection | None = None) -> None:
        db = db or self.db
        for category in CATEGORIES:
            for typedef in doc.get(category, []):
                db.execute(
                    "INSERT OR REPLACE INTO typedefs (name, category, body) VALUES (?, ?, ?)",
                    (typedef["name"], category, json.dumps(typedef, sort_keys=True)),
                )

    # ------------------------------------------------------------------ reading

    def generation(self) -> str | None:
        """How many applies have written to this catalog: a scan trusts what it recorded of
        the entities it wrote only while no write has come after it."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (GENERATION,)).fetchone()
        return str(row[0]) if row else "0"

    def exists(self, type_name: str, qualified_name: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM entities WHERE type_name = ? AND qualified_name = ?",
            (type_name, qualified_name),
        ).fetchone()
        return row is not None

    def columns(self, type_name: str, qualified_name: str) -> frozenset[str] | None:
        """The names of the schema elements the type's ``options.schemaElementsAttribute``
        names (a schema object holding columns followed once); see ``Catalog.columns``."""
        options = {t["name"]: t.get("options") or {} for t in self.typedefs()["entityDefs"]}
        if type_name not in options:
            return None
        attribute = options[type_name].get("schemaElementsAttribute")
        if not attribute:
            return frozenset()
        names: set[str] = set()
        for element in self._related(type_name, qualified_name, attribute):
            nested = options.get(str(element["typeName"]), {}).get("schemaElementsAttribute")
            inner = (
                self._related(element["typeName"], element["qualifiedName"], nested) if nested else [element]
            )
            names.update(str(e["name"]) for e in inner if e.get("name"))
        return frozenset(names)

    def _related(self, type_name: str, qualified_name: str, attribute: str) -> list[dict[str, Any]]:
        """The entities an entity's relationship attribute holds, from either end, with
        their typeName, qualifiedName and name."""
        row = self.db.execute(
            "SELECT * FROM entities WHERE type_name = ? AND qualified_name = ?", (type_name, qualified_name)
        ).fetchone()
        if row is None:
            return []
        held = self._entity_json(row, inverse=True)["relationshipAttributes"].get(attribute)
        out = []
        for ref in held if isinstance(held, list) else [held] if held else []:
            qn = (ref.get("uniqueAttributes") or {}).get("qualifiedName")
            found = self.db.execute(
                "SELECT attributes FROM entities WHERE type_name = ? AND qualified_name = ?",
                (ref.get("typeName"), qn),
            ).fetchone()
            if found is not None:
                name = json.loads(found[0]).get("name")
                out.append({"typeName": ref.get("typeName"), "qualifiedName": qn, "name": name})
        return out

    def current(self, keys: Iterable[Key], scopes: Iterable[str]) -> dict[Key, EntityJson]:
        """The entities held for ``keys`` and every featmesh entity under ``scopes``, read by
        index ranges; each is decoded only when the plan looks into it (:class:`StoredEntity`)."""
        scopes = sorted(set(scopes))
        # every entity is first read by key (from an index that holds the keys); features,
        # most of a mesh, stay so until the plan knows which it compares (``fill``), the
        # others are read in full at once (a few named entities: their rows alone)
        found: dict[Key, Any] = {}  # StoredEntity: Atlas JSON, decoded when read

        def take(guid: str, type_name: str, qn: str) -> None:
            found[(type_name, qn)] = StoredEntity(type_name, guid, None, None, (), (), load=self._fill)

        for scope in scopes:
            for guid, type_name, qn in self.db.execute(
                "SELECT guid, type_name, qualified_name FROM entities "
                "WHERE qualified_name = ? OR (qualified_name >= ? AND qualified_name < ?)",
                (scope, scope + "/", scope + "0"),  # "0" follows "/"
            ):
                if type_name in FEATMESH_TYPES:
                    take(guid, type_name, qn)
        for key in dict.fromkeys(keys):
            if key in found:
                continue
            row = self.db.execute(
                "SELECT guid, type_name, qualified_name FROM entities "
                "WHERE type_name = ? AND qualified_name = ?",
                key,
            ).fetchone()
            if row is not None:
                take(*row)
        self._fill([e for (type_name, _), e in found.items() if type_name != FEATURE])
        products = [key for key in found if key[0] == DATA_PRODUCT]
        if products:
            ends = self._process_ends(set(products))
            for key in products:
                found[key]["relationshipAttributes"].update(ends.get(key, {}))
        return found

    def fill(self, current: Mapping[Key, Any]) -> None:
        """Read in full, at once, the entities of ``current`` (from :meth:`current`) read by
        key only so far."""
        self._fill([e for e in current.values() if isinstance(e, StoredEntity) and e.deferred])

    def _fill(self, entities: Sequence[StoredEntity]) -> None:
        if not entities:
            return
        by_guid = {e.guid: e for e in entities}
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (guid TEXT PRIMARY KEY)")
        self.db.execute("DELETE FROM temp.wanted")
        self.db.executemany("INSERT OR IGNORE INTO temp.wanted VALUES (?)", ((g,) for g in by_guid))
        held: dict[str, list[tuple[str, str]]] = {}
        for guid, type_name, attributes in self.db.execute(
            "SELECT c.entity_guid, c.type_name, c.attributes FROM classifications c "
            "JOIN temp.wanted w ON w.guid = c.entity_guid ORDER BY c.type_name"
        ):
            held.setdefault(guid, []).append((type_name, attributes))
        business: dict[str, list[tuple[str, str]]] = {}
        if self._business:
            for guid, name, attributes in self.db.execute(
                "SELECT b.entity_guid, b.name, b.attributes FROM business_metadata b "
                "JOIN temp.wanted w ON w.guid = b.entity_guid ORDER BY b.name"
            ):
                business.setdefault(guid, []).append((name, attributes))
        for guid, attributes, relationships in self.db.execute(
            "SELECT e.guid, e.attributes, e.relationship_attributes FROM entities e "
            "JOIN temp.wanted w ON w.guid = e.guid"
        ):
            by_guid[guid].filled(attributes, relationships, held.get(guid, ()), business.get(guid, ()))
        self.db.execute("DELETE FROM temp.wanted")

    def _process_ends(self, products: set[Key]) -> dict[Key, dict[str, list[dict[str, Any]]]]:
        """Each data product's ``inputToProcesses`` / ``outputFromProcesses``, as Atlas shows
        a DataSet's: the processes naming it in their inputs or outputs. One pass over the
        processes for all products, in qualifiedName order."""
        out: dict[Key, dict[str, list[dict[str, Any]]]] = {}
        types = self.type_system()
        ended = [  # every entity held is of a known type (checked on write): the others have no ends
            name
            for name in types.entity_type_names()
            if (found := types.entity_type(name)) is not None and _ENDS & found.attributes.keys()
        ]
        if not ended:
            return out
        rows = self.db.execute(
            "SELECT type_name, qualified_name, attributes FROM entities "
            f"WHERE type_name IN ({', '.join('?' * len(ended))}) ORDER BY qualified_name",
            ended,
        )
        for row in rows:
            attributes = _loads(row["attributes"])
            process = {
                "typeName": row["type_name"],
                "uniqueAttributes": {"qualifiedName": row["qualified_name"]},
            }
            for name, end in (("inputs", "inputToProcesses"), ("outputs", "outputFromProcesses")):
                named: set[Key] = set()
                for ref in attributes.get(name) or []:
                    if not isinstance(ref, dict):
                        continue
                    key = (ref.get("typeName"), (ref.get("uniqueAttributes") or {}).get("qualifiedName"))
                    if key in products and key not in named:
                        named.add(key)
                        out.setdefault(key, {}).setdefault(end, []).append(dict(process))
        return out

    def _entity_json(self, row: sqlite3.Row, *, inverse: bool) -> EntityJson:
        relationship_attributes = json.loads(row["relationship_attributes"])
        if inverse:
            relationship_attributes.update(self._inverse_ends(row["guid"], row["type_name"]))
        classifications = [
            {"typeName": c["type_name"], "attributes": json.loads(c["attributes"])}
            for c in self.db.execute(
                "SELECT type_name, attributes FROM classifications WHERE entity_guid = ? ORDER BY type_name",
                (row["guid"],),
            )
        ]
        entity: EntityJson = {
            "typeName": row["type_name"],
            "guid": row["guid"],
            "attributes": json.loads(row["attributes"]),
            "relationshipAttributes": relationship_attributes,
        }
        if classifications:
            entity["classifications"] = classifications
        if self._business:
            business = {
                b["name"]: json.loads(b["attributes"])
                for b in self.db.execute(
                    "SELECT name, attributes FROM business_metadata WHERE entity_guid = ? ORDER BY name",
                    (row["guid"],),
                )
            }
            if business:
                entity["businessAttributes"] = business
        return entity

    def _inverse_ends(self, guid: str, type_name: str) -> dict[str, Any]:
        """Relationship attributes seen from the other end (a store's featureSets)."""
        ends = self.type_system().relationship_ends(type_name)
        by_relationship = {end.relationship_type: name for name, end in ends.items()}
        inverse: dict[str, Any] = {}
        rows = self.db.execute(
            "SELECT r.relationship_type, e.type_name, e.qualified_name FROM relationships r "
            "JOIN entities e ON e.guid = r.from_guid WHERE r.to_guid = ? "
            "ORDER BY e.qualified_name",
            (guid,),
        )
        for row in rows:
            name = by_relationship.get(row["relationship_type"])
            if name is None:
                continue
            reference = {
                "typeName": row["type_name"],
                "uniqueAttributes": {"qualifiedName": row["qualified_name"]},
            }
            if ends[name].cardinality == "SINGLE":
                inverse[name] = reference
            else:
                inverse.setdefault(name, []).append(reference)
        return inverse

    def export(self) -> list[EntityJson]:
        rows = self.db.execute("SELECT * FROM entities ORDER BY type_name, qualified_name").fetchall()
        return [self._entity_json(row, inverse=True) for row in rows]

    def confirm(self, plan: Plan) -> dict[Key, EntityJson | None] | None:
        """Nothing to confirm: :meth:`current` reads the catalog itself."""
        return {}

    def published_models(self) -> list[EntityJson]:
        rows = self.db.execute(
            "SELECT * FROM entities WHERE type_name = ? ORDER BY qualified_name", (MODEL,)
        ).fetchall()
        return [self._entity_json(row, inverse=True) for row in rows]

    def published_feature_sets(self, *, exclude_stores: Iterable[tuple[str, str]] = ()) -> list[FeatureSet]:
        """The published sets, but those of ``exclude_stores`` ((kind, name) pairs: the
        stores a scan reads itself), which are neither decoded nor returned."""
        if self._indexed:
            stores = set(exclude_stores)
            out = []
            for row in self.db.execute(
                "SELECT store_kind, store, body FROM published_sets ORDER BY qualified_name"
            ):
                if (row[0], row[1]) in stores:
                    continue
                fs = feature_set_from_index(row[2])
                if fs is not None:
                    out.append(fs)
            return out
        # a read-only catalog written before the index existed: decode the entities
        skip = {store_qn(kind, name) + "/" for kind, name in exclude_stores}
        return feature_sets_from_entities(
            self._entities_of(FEATURE_SET, skip), self._entities_of(FEATURE, skip)
        )

    def _entities_of(self, type_name: str, skip: set[str] | frozenset[str] = frozenset()) -> list[EntityJson]:
        rows = self.db.execute("SELECT * FROM entities WHERE type_name = ?", (type_name,)).fetchall()
        return [
            self._entity_json(row, inverse=False)
            for row in rows
            if not skip or _store_prefix(row["qualified_name"]) not in skip
        ]

    def feature_set_versions(self, store_kind: str, store: str, name: str) -> list[str | None]:
        prefix = f"featmesh://{store_kind}/{store}/{name}@"
        versions: list[str | None] = []
        for row in self.db.execute(  # a range of the (type_name, qualified_name) index
            "SELECT qualified_name FROM entities "
            "WHERE type_name = ? AND qualified_name >= ? AND qualified_name < ?",
            (FEATURE_SET, prefix, prefix[:-1] + "A"),  # "A" follows "@"
        ):
            ref = parse_feature_set_qn(row[0])
            if ref is not None and ref.name == name:
                versions.append(ref.version)
        return versions

    # ------------------------------------------------------------------ writing

    def apply(self, plan: Plan, *, run_id: str) -> ApplyResult:
        """Apply a plan in one transaction: all of it, or (on a refusal) none of it."""
        result = ApplyResult()
        if not plan.writes:
            return result
        types = self.type_system()
        problems = []
        writes = [c for c in plan.changes if c.action in ("create", "update") and c.desired is not None]
        label = f"writing {len(writes)} entities to {self.uri}"
        bar = progress.meter(label, 2 * len(writes) + len(plan.classifications))
        for change in writes:
            assert change.desired is not None
            problems += [f"{change.key[1]}: {p}" for p in types.check_entity(change.desired)]
            bar.advance()
        if problems:
            bar.close()
            raise CatalogError(
                f"{self.uri} refused the entities, nothing was written: "
                + "; ".join(problems[:5])
                + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""),
                status=400,
            )
        now = utcnow()
        with bar, self._transaction() as db:
            guids = self._upsert(db, plan, now, run_id, result, bar)
            self._link(db, plan, guids, types)
            self._delete(db, plan, result, run_id)
            self._classify(db, plan, guids, types, result, bar)
            _index_sets(db, _touched_sets(plan), _written_attributes(plan))
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, '1') "
                "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                (GENERATION,),
            )
        result.requests = 1
        return result

    def _upsert(
        self,
        db: sqlite3.Connection,
        plan: Plan,
        now: str,
        run_id: str,
        result: ApplyResult,
        bar: progress.Meter = progress.SILENT,
    ) -> dict[Key, str]:
        guids: dict[Key, str] = {}
        created: list[tuple[str, ...]] = []
        updated: list[tuple[str, ...]] = []
        business: list[tuple[str, str, str]] = []
        for change in plan.changes:
            if change.action == "unchanged" and change.current is not None:
                guids[change.key] = change.current["guid"]
            if change.action not in ("create", "update") or change.desired is None:
                continue
            desired = change.desired
            attributes = entity_text(desired["attributes"])
            relationships = entity_text(desired.get("relationshipAttributes", {}))
            if change.action == "create":
                guid = str(uuid.uuid4())
                created.append(
                    (guid, change.key[0], change.key[1], attributes, relationships, now, now, run_id)
                )
                result.created += 1
            else:
                assert change.current is not None
                guid = change.current["guid"]
                updated.append((attributes, relationships, now, run_id, guid))
                result.updated += 1
            guids[change.key] = guid
            for name, values in (desired.get("businessAttributes") or {}).items():
                kept = {k: v for k, v in values.items() if v is not None}
                business.append((guid, name, entity_text(kept)))
            bar.advance()
        # one statement a table, in the order the plan gives (sqlite runs each row in turn)
        db.executemany("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?, ?)", created)
        db.executemany(
            "UPDATE entities SET attributes = ?, relationship_attributes = ?, updated_at = ?, "
            "run_id = ? WHERE guid = ?",
            updated,
        )
        db.executemany("INSERT OR REPLACE INTO business_metadata VALUES (?, ?, ?)", business)
        return guids

    def _guid_of(
        self,
        db: sqlite3.Connection,
        reference: Mapping[str, Any],
        types: TypeSystem,
        known: Mapping[Key, str] | None = None,
    ) -> str:
        """The guid a reference names; ``known``: the guids of the plan's entities by key,
        looked up before the table."""
        qn = (reference.get("uniqueAttributes") or {}).get("qualifiedName")
        type_name = reference.get("typeName")
        if known and qn and isinstance(type_name, str):
            found = known.get((type_name, qn))
            if found is not None:
                return found
        if reference.get("guid") and not qn:
            row = db.execute("SELECT guid FROM entities WHERE guid = ?", (reference["guid"],)).fetchone()
        else:
            row = db.execute(
                "SELECT guid, type_name FROM entities WHERE qualified_name = ? AND type_name = ?",
                (qn, reference.get("typeName")),
            ).fetchone()
        if row is None:
            raise CatalogError(
                f"{self.uri}: referenced entity {reference.get('typeName')} {qn or reference.get('guid')} "
                "does not exist (ATLAS-404-00-00A); nothing was written",
                status=404,
                code="ATLAS-404-00-00A",
            )
        return str(row[0])

    def _link(self, db: sqlite3.Connection, plan: Plan, guids: dict[Key, str], types: TypeSystem) -> None:
        rows: list[tuple[str, str, str, str]] = []
        ends_of: dict[str, dict[str, Any]] = {}
        for change in plan.changes:
            if change.action not in ("create", "update") or change.desired is None:
                continue
            guid = guids[change.key]
            if change.action == "update":  # a guid made by this write has no links yet
                db.execute("DELETE FROM relationships WHERE from_guid = ?", (guid,))
            ends = ends_of.get(change.key[0])
            if ends is None:
                ends = ends_of[change.key[0]] = types.relationship_ends(change.key[0])
            for name, value in change.desired.get("relationshipAttributes", {}).items():
                for reference in value if isinstance(value, list) else [value]:
                    target = self._guid_of(db, reference, types, guids)
                    rows.append((ends[name].relationship_type, guid, name, target))
            for name in ("inputs", "outputs"):
                for reference in change.desired["attributes"].get(name, []) or []:
                    self._guid_of(db, reference, types, guids)
        db.executemany("INSERT OR IGNORE INTO relationships VALUES (?, ?, ?, ?)", rows)

    def _delete(self, db: sqlite3.Connection, plan: Plan, result: ApplyResult, run_id: str) -> None:
        for change in plan.of("delete"):
            assert change.current is not None
            guid = change.current["guid"]
            if change.key[0] == DATA_PRODUCT:  # its columns go with it (a COMPOSITION, as in Atlas)
                children = db.execute(
                    "SELECT from_guid FROM relationships WHERE to_guid = ? AND relationship_type = ?",
                    (guid, PRODUCT_COLUMNS),
                ).fetchall()
                for (child,) in children:
                    db.execute("DELETE FROM relationships WHERE from_guid = ? OR to_guid = ?", (child, child))
                    db.execute("DELETE FROM business_metadata WHERE entity_guid = ?", (child,))
                    db.execute("DELETE FROM classifications WHERE entity_guid = ?", (child,))
                    db.execute("DELETE FROM entities WHERE guid = ?", (child,))
            db.execute("DELETE FROM relationships WHERE from_guid = ? OR to_guid = ?", (guid, guid))
            db.execute("DELETE FROM classifications WHERE entity_guid = ?", (guid,))
            db.execute("DELETE FROM business_metadata WHERE entity_guid = ?", (guid,))
            db.execute("DELETE FROM entities WHERE guid = ?", (guid,))
            result.deleted += 1
        for change in plan.of("retire"):
            assert change.current is not None
            retired = retired_classification(run_id)
            problems = self.type_system().check_classification(change.key[0], retired)
            if problems:
                raise CatalogError(
                    f"{self.uri} refused {retired['typeName']} on {change.key[1]}: " + "; ".join(problems)
                )
            db.execute(
                "INSERT OR IGNORE INTO classifications VALUES (?, ?, ?)",
                (
                    change.current["guid"],
                    retired["typeName"],
                    entity_text(retired["attributes"]),
                ),
            )
            result.retired += 1

    def _classify(
        self,
        db: sqlite3.Connection,
        plan: Plan,
        guids: dict[Key, str],
        types: TypeSystem,
        result: ApplyResult,
        bar: progress.Meter = progress.SILENT,
    ) -> None:
        checked: set[tuple[str, str, str]] = set()  # a classification found valid on a type
        for change in plan.classifications:
            bar.advance()
            if not owned(change.name):
                continue
            guid = guids[change.key]
            if change.action == "remove":
                db.execute(
                    "DELETE FROM classifications WHERE entity_guid = ? AND type_name = ?", (guid, change.name)
                )
            else:
                classification = {"typeName": change.name, "attributes": dict(change.attributes)}
                try:
                    text: str | None = entity_text(classification["attributes"])
                except (TypeError, ValueError):
                    text = None  # the check says what is wrong with it
                # most entities of a mesh carry one of a few outcomes: each is checked once
                if text is None or (change.key[0], change.name, text) not in checked:
                    problems = types.check_classification(change.key[0], classification)
                    if problems:
                        raise CatalogError(
                            f"{self.uri} refused classification {change.name} on {change.key[1]}: "
                            + "; ".join(problems),
                            status=400,
                        )
                    if text is None:  # valid, yet not JSON: raises as it always did
                        text = entity_text(classification["attributes"])
                    checked.add((change.key[0], change.name, text))
                db.execute(
                    "INSERT OR REPLACE INTO classifications VALUES (?, ?, ?)", (guid, change.name, text)
                )
            result.classifications += 1

    # ------------------------------------------------------------------ profiles

    def record_profiles(self, run_id: str, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """Store ``(feature set qn, source uri, profiled_at, profile JSON)`` rows of a run."""
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO profiles VALUES (?, ?, ?, ?, ?)",
                [(run_id, *row) for row in rows],
            )

    def latest_profiles(self, feature_sets: Iterable[str]) -> dict[tuple[str, str], str]:
        """The newest stored profile JSON per (feature set, source), for drift."""
        wanted = set(feature_sets)
        found: dict[tuple[str, str], tuple[str, str]] = {}
        for row in self.db.execute("SELECT feature_set, source, profiled_at, body FROM profiles"):
            if row[0] not in wanted:
                continue
            key = (row[0], row[1])
            if key not in found or row[2] > found[key][0]:
                found[key] = (row[2], row[3])
        return {key: body for key, (_, body) in found.items()}

    # ------------------------------------------------------------------ runs

    def record_run(self, record: dict[str, Any]) -> None:
        rest, parts = _split_record(record)
        with self._transaction() as db:
            db.execute("DELETE FROM run_parts WHERE run_id = ?", (record["run_id"],))
            for part, body in parts.items():
                # stored once by content: a rescan that changed nothing records the same
                # findings as the run before it, and adds no copy of them
                read = self._read_parts.get(part)
                if read is not None and not redact.active() and read[1] == body:
                    digest = read[0]  # what was read back: its text is stored under it
                else:
                    text = redact.scrub(part_text(body))
                    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:40]
                    db.execute(
                        "INSERT OR IGNORE INTO part_bodies (digest, body) VALUES (?, ?)", (digest, text)
                    )
                db.execute(
                    "INSERT INTO run_parts (run_id, part, digest) VALUES (?, ?, ?)",
                    (record["run_id"], part, digest),
                )
            db.execute(
                "INSERT OR REPLACE INTO runs"
                " (run_id, command, started_at, finished_at, status, record, brief)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record["run_id"],
                    record.get("command"),
                    record.get("started_at"),
                    record.get("finished_at"),
                    record.get("status"),
                    redact.scrub(json.dumps(rest, sort_keys=True)),
                    redact.scrub(json.dumps(brief_of(record), sort_keys=True)),
                ),
            )

    def briefs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest runs as their :func:`brief_of` (a run recorded before briefs, whole)."""
        if not self._has_brief():
            return [brief_of(r) for r in self.runs(limit)]
        rows = self.db.execute(
            "SELECT run_id, brief FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?", (limit,)
        ).fetchall()
        return [
            json.loads(brief) if brief is not None else brief_of(self.run(run_id) or {})
            for run_id, brief in rows
        ]

    def run(self, run_id: str, parts: Iterable[str] | None = None) -> dict[str, Any] | None:
        """One run's record: whole, or with only ``parts`` of the :data:`RUN_PARTS` (the
        others left out; a run recorded whole before schema version 3 has them all)."""
        row = self.db.execute("SELECT record FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else self._joined(run_id, row[0], parts)

    def _joined(self, run_id: str, text: str, parts: Iterable[str] | None = None) -> dict[str, Any]:
        record = dict(_loads(text))
        wanted = RUN_PARTS if parts is None else [p for p in RUN_PARTS if p in set(parts)]
        if not self._parts or not wanted:
            return record
        marks = ", ".join("?" * len(wanted))
        rows = self.db.execute(
            "SELECT p.part, p.digest, b.body FROM run_parts p JOIN part_bodies b ON b.digest = p.digest "
            f"WHERE p.run_id = ? AND p.part IN ({marks})",
            (run_id, *wanted),
        )
        for part, digest, body in rows:
            section, key = part.split(".", 1)
            held = dict(record.get(section) or {})
            held[key] = value = _loads(body)
            self._read_parts[part] = (digest, value)
            record[section] = dict(sorted(held.items()))  # the order the whole record had
        return record

    def last_scan(
        self, catalog: str | None = None, window: int = 10, *, parts: Iterable[str] | None = None
    ) -> dict[str, Any] | None:
        """The newest scan recorded with an evaluation among the ``window`` newest runs
        (of ``catalog`` when given: a remote catalog's history), picked by the runs' briefs
        and decoding only that one record (with only ``parts`` of its :data:`RUN_PARTS`
        when given)."""
        if not self._has_brief():
            return next((r for r in self.runs(window) if _last_scan_of(r, catalog)), None)
        rows = self.db.execute(
            "SELECT run_id, command, brief FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?", (window,)
        ).fetchall()
        for run_id, command, brief in rows:
            if command != "scan":
                continue
            if brief is not None and not _last_scan_of(json.loads(brief), catalog, brief=True):
                continue
            record = self.run(run_id, parts)
            if record is not None and _last_scan_of(record, catalog):
                return record
        return None

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT run_id, record FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?", (limit,)
        ).fetchall()
        return [self._joined(run_id, record) for run_id, record in rows]

    def recent_runs(self, limit: int = 10) -> list[Mapping[str, Any]]:
        """The newest runs, each decoded whole only when asked for more than its header
        (:class:`RunRecord`): a scan looks into the newest scan and seldom further."""
        if not self._has_brief():
            return list(self.runs(limit))
        rows = self.db.execute(
            "SELECT run_id, brief FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?", (limit,)
        ).fetchall()
        return [
            RunRecord(json.loads(brief), functools.partial(self.run, run_id))
            if brief is not None
            else (self.run(run_id) or {})
            for run_id, brief in rows
        ]


BUSY_TIMEOUT = 60.0
"""Seconds a statement waits for another process's write to the same file to end."""
LOCK_WAIT = 1800.0
"""Seconds a writer waits for another writer of the same catalog (a scan) to finish."""


WRITER_CACHE_KIB = 128 * 1024
"""The page cache of a writer's connection (SQLite's default is 2 MiB): a first scan of
10,000 sets inserts 420,000 entities keyed by random guids, and with the default cache
each insert into a table larger than it read its pages back from the file (a tenth of
a 3,000-set first scan)."""


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT)
    db.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")  # negative: KiB, not pages
    return db


def _writer_lock(path: Path, *, wait: float = LOCK_WAIT) -> Any:
    """An exclusive lock on ``PATH.lock`` held while a writer has the catalog open, so
    that scans of one catalog run one after the other. A second writer says that it
    waits, then waits (up to ``wait`` seconds)."""
    try:
        import fcntl
    except ImportError:  # no advisory locks here: SQLite's own locking still applies
        return None
    handle = open(f"{path}.lock", "a+b")  # noqa: SIM115 - held until close()
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return handle
    except BlockingIOError:
        pass

    log.warning("local:%s is in use by another featmesh run; waiting for it to finish", path)
    progress.step(f"waiting for another featmesh run on local:{path} to finish")
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                raise CatalogError(
                    f"local:{path} stayed in use by another featmesh run for {wait:.0f} s; "
                    "try again when it has finished"
                ) from None
            time.sleep(0.2)


def _damaged(err: sqlite3.DatabaseError) -> bool:
    text = str(err).lower()
    return not isinstance(err, sqlite3.OperationalError) or any(
        word in text for word in ("malformed", "not a database", "decode", "corrupt", "disk i/o")
    )


def damaged(path: Path, err: Exception) -> InputError:
    """The message for a catalog or history file that cannot be read."""
    return InputError(
        f"the file is damaged and cannot be read ({str(err)[:160]}); restore it from a backup, or move it "
        "away and run the scan again to rebuild it",
        path=str(path),
    )


def _open_error(path: Path, err: sqlite3.DatabaseError) -> InputError:
    text = str(err).lower()
    if "readonly" in text or "read-only" in text:
        return InputError(
            "the catalog file is read-only: featmesh must write it to record this run "
            "(check the permissions of the file and its folder)",
            path=str(path),
        )
    if "unable to open" in text:
        return InputError(
            f"cannot open the catalog ({err}): check that the folder exists and can be written",
            path=str(path),
        )
    if "no such table" in text:
        return InputError(f"not a featmesh catalog: {err}", path=str(path))
    if "not a database" in text:
        return InputError(
            "not a featmesh catalog (not an SQLite file, or a damaged one); restore it from a "
            "backup, or name another file",
            path=str(path),
        )
    return damaged(path, err)


def _guarded(method: Any) -> Any:
    """A LocalCatalog method turning an unreadable file into an input error (exit 2)."""

    @functools.wraps(method)
    def call(self: LocalCatalog, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as err:
            if _damaged(err):
                raise damaged(self.path, err) from None
            raise CatalogError(f"{self.uri}: {err}") from None

    return call


for _name, _method in list(vars(LocalCatalog).items()):
    if not _name.startswith("_") and callable(_method) and _name != "close":
        setattr(LocalCatalog, _name, _guarded(_method))


_BUSINESS_DDL = """CREATE TABLE IF NOT EXISTS business_metadata (
    entity_guid TEXT NOT NULL, name TEXT NOT NULL, attributes TEXT NOT NULL,
    PRIMARY KEY (entity_guid, name))"""


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    """Whether the catalog has the table (a read-only catalog of an earlier featmesh may not)."""
    row = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    return row is not None


def _shipped_typedefs() -> dict[str, Any]:
    base = load_base_typedefs()
    doc = load_typedefs()
    merged: dict[str, Any] = {c: [] for c in CATEGORIES}
    for source in (base, doc):
        for category in CATEGORIES:
            merged[category].extend(source.get(category, []))
    return merged


_DECODER = msgspec.json.Decoder()


def _loads(text: str) -> Any:
    """``json.loads(text)``, by msgspec where it reads the text (a run record's findings
    and sets decode in half the time): the same values; what msgspec refuses and ``json``
    reads (a lone surrogate escaped, NaN, a number too large for a float) is read by ``json``."""
    try:
        return _DECODER.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


def entity_text(value: Any) -> str:
    """An entity's attributes (or references, or a business metadata group) as the text
    the catalog stores: sorted keys, written by msgspec (``json``'s sorting encoder took a
    tenth of a first scan of 10,000 sets). Where msgspec writes ``null`` the value may have
    held a NaN, which msgspec writes as null and ``json`` keeps, and where msgspec refuses
    it (a lone surrogate, an integer past 64 bits), ``json`` writes the text, as it wrote
    every entity before: the same value, the same text, always."""
    return _sorted_text(value, (", ", ": "))


def _sorted_text(value: Any, separators: tuple[str, str]) -> str:
    try:
        text = msgspec.json.encode(value, order="sorted")
    except (TypeError, ValueError, msgspec.EncodeError, OverflowError):
        return json.dumps(value, sort_keys=True, separators=separators)
    if b"null" in text:
        return json.dumps(value, sort_keys=True, separators=separators)
    return text.decode("utf-8")


def _stored_as(value: Any, stored: str | None) -> bool:
    """``value`` is what ``stored`` holds as written: by :func:`entity_text`, or (a row
    an earlier featmesh wrote and no scan has changed since) by ``json``'s encoder. Such
    rows are left as they are (rewriting the 420,000 entities of 10,000 sets took 21 s):
    they cost a second encoding where they are compared, about a sixth of them on an
    unchanged rescan."""
    if entity_text(value) == stored:
        return True
    # json writes ": " between a key and its value; msgspec's compact text has it only in strings
    return stored is not None and ": " in stored and json.dumps(value, sort_keys=True) == stored


def part_text(body: Any) -> str:
    """A run record part as compact JSON with sorted keys (the same content, the same text:
    parts are kept by digest). msgspec writes it about six times faster than ``json``,
    whose sorting encoder took a tenth of a rescan of 10,000 sets; ``json`` writes what
    msgspec refuses (keys that are not strings, lone surrogates). JSON has no NaN: msgspec
    writes null, which is what the profiles already record for a non-finite statistic
    (``profiling.columns``); findings carry no floats."""
    try:
        return msgspec.json.encode(body, order="sorted").decode("utf-8")
    except (TypeError, ValueError, msgspec.EncodeError, OverflowError):
        # ValueError: a lone surrogate (a file name that is not UTF-8), which json escapes
        return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _split_record(record: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record without its :data:`RUN_PARTS`, and those parts by name."""
    rest = dict(record)
    parts: dict[str, Any] = {}
    for part in RUN_PARTS:
        section, key = part.split(".", 1)
        held = rest.get(section)
        if isinstance(held, Mapping) and key in held:
            parts[part] = held[key]
            rest[section] = {k: v for k, v in held.items() if k != key}
    return rest, parts


def _written_attributes(plan: Plan) -> dict[Key, Mapping[str, Any]]:
    """The attributes of the feature sets and features a plan creates or updates."""
    return {
        change.key: change.desired["attributes"]
        for change in plan.changes
        if change.action in ("create", "update")
        and change.desired is not None
        and change.key[0] in (FEATURE_SET, FEATURE)
    }


def _touched_sets(plan: Plan) -> set[str]:
    """qualifiedNames of the feature sets whose entity or features a plan writes."""
    touched = set()
    for change in plan.changes:
        if change.action not in ("create", "update", "delete"):
            continue
        if change.key[0] == FEATURE_SET:
            touched.add(change.key[1])
        elif change.key[0] == FEATURE:
            touched.add(change.key[1].split("#", 1)[0])
    return touched


def _index_sets(
    db: sqlite3.Connection,
    qualified_names: Iterable[str] | None,
    written: Mapping[Key, Mapping[str, Any]] | None = None,
) -> None:
    """Rewrite the ``published_sets`` rows of these feature sets (of every set when
    None) from their entities, inside the caller's transaction. ``written``: the attributes
    of the entities this write stored, by key (what decoding their rows would give back)."""
    if qualified_names is None:
        db.execute("DELETE FROM published_sets")
        features: dict[str, list[dict[str, Any]]] = {}
        for (attributes,) in db.execute("SELECT attributes FROM entities WHERE type_name = ?", (FEATURE,)):
            attrs = json.loads(attributes)
            features.setdefault(attrs["qualifiedName"].split("#", 1)[0], []).append(attrs)
        rows = db.execute(
            "SELECT qualified_name, attributes FROM entities WHERE type_name = ?", (FEATURE_SET,)
        ).fetchall()
        for qn, attributes in rows:
            _index_row(db, qn, json.loads(attributes), features.get(qn, []))
        return
    written = written or {}
    for qn in sorted(qualified_names):
        found = db.execute(
            "SELECT attributes FROM entities WHERE type_name = ? AND qualified_name = ?", (FEATURE_SET, qn)
        ).fetchone()
        if found is None:
            db.execute("DELETE FROM published_sets WHERE qualified_name = ?", (qn,))
            continue
        members = [
            written.get((FEATURE, name)) or json.loads(attributes)
            for name, attributes in db.execute(
                "SELECT qualified_name, attributes FROM entities WHERE type_name = ? AND qualified_name >= ? "
                "AND qualified_name < ?",
                (FEATURE, qn + "#", qn + "$"),  # "$" follows "#": the range of qn#...
            )
        ]
        own = [m for m in members if m["qualifiedName"].split("#", 1)[0] == qn]
        attrs = written.get((FEATURE_SET, qn)) or json.loads(found[0])
        _index_row(db, qn, attrs, own)


def _index_row(
    db: sqlite3.Connection, qn: str, attrs: Mapping[str, Any], features: Sequence[Mapping[str, Any]]
) -> None:
    ref = parse_feature_set_qn(qn)
    if ref is None:  # not a feature set's name: never read back as one
        db.execute("DELETE FROM published_sets WHERE qualified_name = ?", (qn,))
        return
    db.execute(
        "INSERT OR REPLACE INTO published_sets VALUES (?, ?, ?, ?, ?, ?)",
        (
            qn,
            ref.store_kind,
            ref.store,
            attrs.get("domain"),
            attrs.get("contentHash"),
            index_body(qn, attrs, features),
        ),
    )


def index_body(qn: str, attrs: Mapping[str, Any], features: Sequence[Mapping[str, Any]]) -> str:
    """What the mesh-wide rules read of a published set (:func:`index_document`), as text."""
    return _sorted_text(index_document(qn, attrs, features), (",", ":"))


def _store_prefix(qualified_name: str) -> str:
    """``featmesh://kind/store/`` of a feature set's or a feature's qualifiedName (the
    names' own ``/`` are percent-encoded, so the last one ends the store)."""
    base = qualified_name.split("#", 1)[0]
    return base[: base.rfind("/") + 1]

"""What featmesh last wrote to a remote catalog, kept in its run history.

A rescan of an unchanged mesh against Atlas or Purview would otherwise look up every
entity again (on Purview, every read is a metered operation). Instead, the run history
(``.featmesh/history.db``) keeps, per catalog:

- each entity featmesh wrote or saw under the stores it scanned, in the plan's form
  (guid, attributes, references, classifications), or a tombstone for one it deleted;
- the stores whose entities it has read in full once (``remote_scopes``): only those
  are trusted, a store scanned for the first time from this history is read in full;
- the compact index of the published feature sets the mesh-wide rules read
  (``remote_sets``), built from a full export and kept up to date by each apply.

A scan trusts it: entities it answers for are not looked up, and only those the plan
would write are read again before the write (:meth:`AtlasCatalog.confirm`). What the
mirror cannot know (a change made by hand in the catalog, or by featmesh from another
machine) is found by ``scan --verify``, which reads everything again and rebuilds it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from featmesh.connector.catalog.local import index_body
from featmesh.connector.catalog.plan import EntityJson, Key
from featmesh.connector.mapping.entities import FEATURE, FEATURE_SET
from featmesh.connector.mapping.reverse import feature_set_from_index
from featmesh.connector.model import FeatureSet, parse_feature_set_qn
from featmesh.connector.runreport import utcnow

_SEP = (",", ":")


def _in_scope(qn: str, scope: str) -> bool:
    return qn == scope or qn.startswith(scope + "/")


class Mirror:
    """The rows of one catalog (``uri``) in a run history's SQLite connection."""

    def __init__(self, db: sqlite3.Connection, uri: str, *, writable: bool):
        self.db = db
        self.uri = uri
        self.writable = writable

    # ------------------------------------------------------------------ reading

    def trusted(self, scopes: Iterable[str]) -> bool:
        """Every one of ``scopes`` has been read in full once and recorded since."""
        wanted = set(scopes)
        try:
            rows = self.db.execute("SELECT scope FROM remote_scopes WHERE catalog = ?", (self.uri,))
            have = {r[0] for r in rows}
        except sqlite3.OperationalError:  # a history written before the mirror existed
            return False
        return bool(have) and wanted <= have

    def entries(self, keys: Iterable[Key], scopes: Iterable[str]) -> tuple[dict[Key, EntityJson], set[Key]]:
        """What featmesh recorded for ``keys`` and under ``scopes``: the entities it holds,
        and the keys it knows the catalog does not hold (tombstones)."""
        found: dict[Key, EntityJson] = {}
        absent: set[Key] = set()

        def take(type_name: str, qn: str, body: str | None) -> None:
            if body is None:
                absent.add((type_name, qn))
            else:
                found[(type_name, qn)] = json.loads(body)

        for scope in sorted(set(scopes)):
            rows = self.db.execute(
                "SELECT type_name, qualified_name, body FROM remote_entities WHERE catalog = ? "
                "AND (qualified_name = ? OR (qualified_name >= ? AND qualified_name < ?))",
                (self.uri, scope, scope + "/", scope + "0"),  # "0" follows "/"
            )
            for type_name, qn, body in rows:
                take(type_name, qn, body)
        for type_name, qn in keys:
            if (type_name, qn) in found or (type_name, qn) in absent:
                continue
            row = self.db.execute(
                "SELECT body FROM remote_entities WHERE catalog = ? AND type_name = ? AND qualified_name = ?",
                (self.uri, type_name, qn),
            ).fetchone()
            if row is not None:
                take(type_name, qn, row[0])
        return found, absent

    def versions(self, scope: str, name: str) -> list[str | None]:
        """The versions of feature set ``name`` recorded under store ``scope``."""
        out: list[str | None] = []
        for (qn,) in self.db.execute(
            "SELECT qualified_name FROM remote_entities WHERE catalog = ? AND type_name = ? "
            "AND body IS NOT NULL AND qualified_name >= ? AND qualified_name < ?",
            (self.uri, FEATURE_SET, scope + "/", scope + "0"),
        ):
            ref = parse_feature_set_qn(qn)
            if ref is not None and ref.name == name:
                out.append(ref.version)
        return out

    def published(self, exclude_stores: Iterable[tuple[str, str]]) -> list[FeatureSet] | None:
        """The published sets of the index (None: no index built for this catalog yet)."""
        try:
            built = self.db.execute(
                "SELECT 1 FROM meta WHERE key = ?", (f"remote_sets:{self.uri}",)
            ).fetchone()
        except sqlite3.OperationalError:
            return None
        if built is None:
            return None
        skip = set(exclude_stores)
        out = []
        for kind, store, body in self.db.execute(
            "SELECT store_kind, store, body FROM remote_sets WHERE catalog = ? ORDER BY qualified_name",
            (self.uri,),
        ):
            if (kind, store) in skip:
                continue
            fs = feature_set_from_index(body)
            if fs is not None:
                out.append(fs)
        return out

    # ------------------------------------------------------------------ writing

    def record(
        self,
        held: Mapping[Key, EntityJson | None],
        *,
        synced: Iterable[str] = (),
    ) -> None:
        """Store what the catalog now holds for these keys (None: a tombstone), and, for
        each scope in ``synced`` (read in full in this run), forget any other row under it
        and mark it trusted."""
        if not self.writable:
            return
        scopes = sorted(set(synced))
        with self.db:
            for scope in scopes:
                stale = [
                    (t, q)
                    for t, q in self.db.execute(
                        "SELECT type_name, qualified_name FROM remote_entities WHERE catalog = ? "
                        "AND (qualified_name = ? OR (qualified_name >= ? AND qualified_name < ?))",
                        (self.uri, scope, scope + "/", scope + "0"),
                    )
                    if (t, q) not in held
                ]
                self.db.executemany(
                    "DELETE FROM remote_entities WHERE catalog = ? AND type_name = ? AND qualified_name = ?",
                    [(self.uri, t, q) for t, q in stale],
                )
            self.db.executemany(
                "INSERT OR REPLACE INTO remote_entities VALUES (?, ?, ?, ?)",
                [
                    (self.uri, t, q, None if e is None else json.dumps(e, separators=_SEP, sort_keys=True))
                    for (t, q), e in held.items()
                ],
            )
            now = utcnow()
            self.db.executemany(
                "INSERT OR REPLACE INTO remote_scopes VALUES (?, ?, ?)", [(self.uri, s, now) for s in scopes]
            )
            self._index(held)

    def forget(self, keys: Iterable[Key]) -> None:
        """Drop these rows: the next run looks them up in the catalog."""
        if not self.writable:
            return
        with self.db:
            self.db.executemany(
                "DELETE FROM remote_entities WHERE catalog = ? AND type_name = ? AND qualified_name = ?",
                [(self.uri, t, q) for t, q in keys],
            )

    def distrust(self) -> None:
        """The catalog disagrees with the mirror: the next read of any store is in full."""
        if not self.writable:
            return
        with self.db:
            self.db.execute("DELETE FROM remote_scopes WHERE catalog = ?", (self.uri,))

    def rebuild_index(self, entities: Iterable[EntityJson]) -> None:
        """Replace the published-set index with the sets of a full export."""
        if not self.writable:
            return
        sets: dict[str, Mapping[str, Any]] = {}
        features: dict[str, list[Mapping[str, Any]]] = {}
        for entity in entities:
            attrs = entity.get("attributes") or {}
            qn = str(attrs.get("qualifiedName", ""))
            if entity.get("typeName") == FEATURE_SET:
                sets[qn] = attrs
            elif entity.get("typeName") == FEATURE:
                features.setdefault(qn.split("#", 1)[0], []).append(attrs)
        with self.db:
            self.db.execute("DELETE FROM remote_sets WHERE catalog = ?", (self.uri,))
            for qn, attrs in sets.items():
                self._index_set(qn, attrs, features.get(qn, []))
            self.db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')", (f"remote_sets:{self.uri}",)
            )

    def _index(self, held: Mapping[Key, EntityJson | None]) -> None:
        """Rewrite the index rows of the feature sets among ``held`` or whose features are
        (inside the caller's transaction, after ``held`` is stored)."""
        touched = sorted(
            {qn.split("#", 1)[0] for (type_name, qn) in held if type_name in (FEATURE_SET, FEATURE)}
        )
        for qn in touched:
            row = self.db.execute(
                "SELECT body FROM remote_entities WHERE catalog = ? AND type_name = ? AND qualified_name = ?",
                (self.uri, FEATURE_SET, qn),
            ).fetchone()
            if row is None or row[0] is None:
                self.db.execute(
                    "DELETE FROM remote_sets WHERE catalog = ? AND qualified_name = ?", (self.uri, qn)
                )
                continue
            members = [
                (json.loads(body).get("attributes") or {})
                for (body,) in self.db.execute(
                    "SELECT body FROM remote_entities WHERE catalog = ? AND type_name = ? "
                    "AND qualified_name >= ? AND qualified_name < ? AND body IS NOT NULL",
                    (self.uri, FEATURE, qn + "#", qn + "$"),  # "$" follows "#"
                )
            ]
            own = [m for m in members if str(m.get("qualifiedName", "")).split("#", 1)[0] == qn]
            self._index_set(qn, json.loads(row[0]).get("attributes") or {}, own)

    def _index_set(self, qn: str, attrs: Mapping[str, Any], features: list[Mapping[str, Any]]) -> None:
        ref = parse_feature_set_qn(qn)
        if ref is None:
            return
        self.db.execute(
            "INSERT OR REPLACE INTO remote_sets VALUES (?, ?, ?, ?, ?)",
            (self.uri, qn, ref.store_kind, ref.store, index_body(qn, attrs, features)),
        )

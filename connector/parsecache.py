"""Parsed documents kept from one run to the next, by the digest of their text.

A rescan of a mesh whose manifests did not change spent most of its reading time parsing
YAML and validating it against the same schema, with the same result as last time. Both
answers depend on the text alone, so they are kept by its SHA-256 (and by the parser's
and this format's versions): a file whose text is unchanged is read from here, one JSON
decode, instead of parsed, checked for the shapes the two YAML schemas read apart, and
validated. A changed byte is a different digest, so an entry is never stale; nothing
else (a path, a time stamp) is trusted. A verdict is also kept for each item of a large
array (each feature set of a manifest, :func:`documents.validate` ``parts``), by the digest
of its parsed content: a file with one set edited validates that set again, not its file.

Only what the fast parser read is kept: a document PyYAML composed (a merge key, a
risky scalar) keeps its positions from composing, and is composed again. Small files
(under :data:`MIN_CHARS`) are parsed every time: they are quick, and a lookup costs a
database read.

The cache is one SQLite file under ``$FEATMESH_CACHE_DIR`` (default
``$XDG_CACHE_HOME/featmesh``, else ``~/.cache/featmesh``); ``FEATMESH_CACHE_DIR=off``
turns it off. It only ever saves time: a cache that cannot be opened, read or written
(read-only home, a damaged file, another process holding the lock) is left alone and
the document parsed as without it. Entries unused for :data:`KEEP_DAYS` days are dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

ENV = "FEATMESH_CACHE_DIR"
OFF = frozenset({"off", "0", "false", "no", "none"})
MIN_CHARS = 8 * 1024
KEEP_DAYS = 30
FORMAT = 2
"""Bumped whenever what an entry holds, or how the fast path decides, changes."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS parsed (digest TEXT PRIMARY KEY, data TEXT NOT NULL, used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS valid (digest TEXT NOT NULL, schema TEXT NOT NULL, used INTEGER NOT NULL,
    PRIMARY KEY (digest, schema));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

MISS = object()


def cache_dir() -> Path | None:
    """Where the cache lives, or None when it is turned off."""
    chosen = os.environ.get(ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in OFF or not chosen.strip() else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "featmesh"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _today() -> int:
    return int(time.time() // 86400)


class ParseCache:
    """The cache of one process: opened on first use, every failure turning it off."""

    def __init__(self, folder: Path | None, version: str) -> None:
        self.folder = folder
        self.version = version
        self._db: sqlite3.Connection | None = None
        self._broken = folder is None
        self._schemas: dict[int, tuple[Mapping[str, Any], str]] = {}

    def _open(self) -> sqlite3.Connection | None:
        if self._db is not None or self._broken:
            return self._db
        assert self.folder is not None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.folder / "parsed-v1.db", timeout=0.2, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # losing the newest entries costs a parse
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            if row is None or row[0] != self.version:
                # entries of another parser or format mean nothing here
                db.execute("DELETE FROM parsed")
                db.execute("DELETE FROM valid")
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)", (self.version,))
            self._prune(db)
        except (OSError, sqlite3.Error, ValueError):
            self._broken = True
            if "db" in locals():
                db.close()
            return None
        self._db = db
        return db

    def _prune(self, db: sqlite3.Connection) -> None:
        today = _today()
        row = db.execute("SELECT value FROM meta WHERE key = 'pruned'").fetchone()
        if row is not None and int(row[0]) == today:
            return
        db.execute("DELETE FROM parsed WHERE used < ?", (today - KEEP_DAYS,))
        db.execute("DELETE FROM valid WHERE used < ?", (today - KEEP_DAYS,))
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('pruned', ?)", (str(today),))

    def _run(self, sql: str, args: tuple[Any, ...]) -> list[Any] | None:
        db = self._open()
        if db is None:
            return None
        try:
            return db.execute(sql, args).fetchall()
        except (sqlite3.Error, ValueError):
            return None  # locked by another process, or damaged: parse as without a cache

    def get(self, digest: str) -> Any:
        """The data parsed from the text of ``digest``, or :data:`MISS`."""
        rows = self._run("SELECT data, used FROM parsed WHERE digest = ?", (digest,))
        if not rows:
            return MISS
        text, used = rows[0]
        import msgspec  # imported where a large file is read, not at every start-up

        try:
            data = msgspec.json.decode(text)
        except (ValueError, msgspec.DecodeError):
            return MISS
        if used != _today():
            self._run("UPDATE parsed SET used = ? WHERE digest = ?", (_today(), digest))
        return data

    def put(self, digest: str, data: Any) -> None:
        """Keep ``data`` when JSON gives it back exactly: a key that is not a string, a
        non-finite number or a lone surrogate would come back as something else, so the
        text is decoded again and compared (msgspec does both faster than ``json`` does
        one)."""
        import msgspec

        try:
            encoded = msgspec.json.encode(data)
            if msgspec.json.decode(encoded) != data:
                return  # not kept: it would not read back the same
            text = encoded.decode("utf-8")
        except (TypeError, ValueError, OverflowError, msgspec.EncodeError, msgspec.DecodeError):
            return  # a value JSON cannot hold at all: not kept
        self._run(
            "INSERT OR REPLACE INTO parsed (digest, data, used) VALUES (?, ?, ?)", (digest, text, _today())
        )

    def schema_key(self, schema: Mapping[str, Any]) -> str:
        held = self._schemas.get(id(schema))
        if held is not None and held[0] is schema:
            return held[1]
        key = text_digest(json.dumps(schema, sort_keys=True, default=str))
        if len(self._schemas) >= 64:  # schemas built per call must not pile up
            self._schemas.pop(next(iter(self._schemas)))
        self._schemas[id(schema)] = (schema, key)
        return key

    def valid(self, digest: str, schema: Mapping[str, Any]) -> bool:
        """Whether the document of ``digest`` was found valid against ``schema`` before."""
        key = self.schema_key(schema)
        rows = self._run("SELECT used FROM valid WHERE digest = ? AND schema = ?", (digest, key))
        if not rows:
            return False
        if rows[0][0] != _today():
            self._run("UPDATE valid SET used = ? WHERE digest = ? AND schema = ?", (_today(), digest, key))
        return True

    def mark_valid(self, digest: str, schema: Mapping[str, Any]) -> None:
        self._run(
            "INSERT OR REPLACE INTO valid (digest, schema, used) VALUES (?, ?, ?)",
            (digest, self.schema_key(schema), _today()),
        )

    def valid_among(self, digests: Sequence[str], schema: Mapping[str, Any]) -> set[str]:
        """Those of ``digests`` found valid against ``schema`` before (one query per 500)."""
        key, today, found = self.schema_key(schema), _today(), set()
        stale: list[str] = []
        for start in range(0, len(digests), 500):
            chunk = digests[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._run(
                f"SELECT digest, used FROM valid WHERE schema = ? AND digest IN ({marks})", (key, *chunk)
            )
            for digest, used in rows or ():
                found.add(digest)
                if used != today:
                    stale.append(digest)
        if stale:
            self._many(
                "UPDATE valid SET used = ? WHERE digest = ? AND schema = ?", [(today, d, key) for d in stale]
            )
        return found

    def mark_all_valid(self, digests: Iterable[str], schema: Mapping[str, Any]) -> None:
        key, today = self.schema_key(schema), _today()
        rows = [(d, key, today) for d in digests]
        self._many("INSERT OR REPLACE INTO valid (digest, schema, used) VALUES (?, ?, ?)", rows)

    def _many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """``sql`` for each of ``rows``, in one transaction."""
        db = self._open()
        if db is None or not rows:
            return
        try:
            with db:  # autocommit connection: BEGIN here, COMMIT at the end
                db.execute("BEGIN")
                db.executemany(sql, rows)
        except (sqlite3.Error, ValueError):
            pass  # locked by another process, or damaged: only time is lost


_CACHE: ParseCache | None = None


def shared(version: str) -> ParseCache:
    """The process's cache, for the folder the environment names now (tests change it)."""
    global _CACHE
    folder = cache_dir()
    if _CACHE is None or _CACHE.folder != folder or _CACHE.version != version:
        _CACHE = ParseCache(folder, version)
    return _CACHE

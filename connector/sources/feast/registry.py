"""Finding and decoding a Feast registry: the file registry or the SQL registry on SQLite.

A location is a feature repo folder (its ``feature_store.yaml`` names the registry),
a ``feature_store.yaml`` file, or a registry file itself (``registry.db`` protobuf, or
a SQLite database holding the SQL registry's tables). Either way the result is one
decoded ``Registry`` message of :mod:`connector.sources.feast.schema`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from google.protobuf.message import DecodeError

from featmesh.connector.documents import Document, load_yaml
from featmesh.connector.errors import InputError, UnsupportedStoreError
from featmesh.connector.sources.feast import CONFIG_NAME
from featmesh.connector.sources.feast.schema import SQL_TABLES, message_class

SQLITE_MAGIC = b"SQLite format 3\x00"
MAX_REGISTRY_BYTES = 1024 * 1024 * 1024

_REMOTE_SCHEMES = ("s3", "gs", "az", "abfs", "abfss", "http", "https")


@dataclass(frozen=True, kw_only=True)
class RegistryFile:
    """Where the registry is and how it is stored (``file`` or ``sql``)."""

    path: Path
    storage: str
    project: str | None = None
    """The project ``feature_store.yaml`` names, when the location had one."""


def locate(location: str) -> RegistryFile:
    """The registry a ``feast:`` location stands for; InputError if there is none."""
    path = Path(location)
    if not path.exists():
        raise InputError("no such file or folder", path=location)
    if path.is_dir():
        config = path / CONFIG_NAME
        if not config.is_file():
            raise InputError(
                f"folder holds no {CONFIG_NAME}: expected a Feast feature repo or a registry file",
                path=location,
            )
        return _from_config(load_yaml(config))
    if path.suffix in (".yaml", ".yml"):
        return _from_config(load_yaml(path))
    return RegistryFile(path=path, storage="sql" if _is_sqlite(path) else "file")


def _from_config(doc: Document) -> RegistryFile:
    if not isinstance(doc.data, dict):
        raise doc.error("expected a mapping (a Feast feature_store.yaml)")
    project = doc.data.get("project")
    if "registry" not in doc.data:
        raise doc.error("missing required key: 'registry'")
    raw = doc.data["registry"]
    where: tuple[str, ...]
    if isinstance(raw, str):
        registry_type, target, where = "file", raw, ("registry",)
    elif isinstance(raw, dict):
        registry_type = str(raw.get("registry_type", "file"))
        if registry_type not in ("file", "sql"):
            raise _registry_type(doc, registry_type)
        if not isinstance(raw.get("path"), str) or not raw["path"]:
            raise doc.error("missing required key: 'path'", ("registry",))
        target, where = raw["path"], ("registry", "path")
    else:
        raise doc.error("expected a path or a mapping with registry_type and path", ("registry",))
    base = Path(doc.path).parent
    project_name = str(project) if project is not None else None
    if registry_type == "file":
        return RegistryFile(path=_local_path(doc, where, target, base), storage="file", project=project_name)
    if registry_type == "sql":
        return RegistryFile(path=_sqlite_path(doc, where, target, base), storage="sql", project=project_name)
    raise _registry_type(doc, registry_type)


def _registry_type(doc: Document, registry_type: str) -> Exception:
    if registry_type in FEAST_REGISTRY_TYPES:
        return _unsupported(
            doc,
            f"a Feast registry of type '{registry_type}' is not read: featmesh reads the file "
            "registry and the SQL registry on SQLite",
            ("registry", "registry_type"),
        )
    return doc.error(
        f"unknown registry type '{registry_type}' (Feast's registry types: "
        f"{', '.join(sorted(FEAST_REGISTRY_TYPES))})",
        ("registry", "registry_type"),
    )


FEAST_REGISTRY_TYPES = frozenset({"file", "sql", "snowflake.registry", "remote"})
"""The registry types Feast accepts (docs.feast.dev, reference/registries: local, S3
and GCS files, SQL, Snowflake, remote registry server)."""


def _unsupported(doc: Document, message: str, where: tuple[str, ...]) -> UnsupportedStoreError:
    """A valid Feast setup featmesh does not read: exit 3, located like an input error."""
    located = doc.error(message, where)
    return UnsupportedStoreError(str(located))


def _local_path(doc: Document, where: tuple[str, ...], target: str, base: Path) -> Path:
    scheme = urlparse(target).scheme.lower()
    if scheme in _REMOTE_SCHEMES:
        raise _unsupported(
            doc,
            f"registry '{target}' is remote ({scheme}://); featmesh reads local registry "
            "files only: copy it next to feature_store.yaml and point registry at the copy",
            where,
        )
    path = Path(target)
    return path if path.is_absolute() else base / path


def _sqlite_path(doc: Document, where: tuple[str, ...], url: str, base: Path) -> Path:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise doc.error(f"'{url}' is not a database URL (dialect://...)", where)
    if not scheme.startswith("sqlite"):
        raise _unsupported(
            doc,
            f"SQL registry on '{scheme}' is not read: featmesh reads the SQL registry "
            "on SQLite only (sqlite:///PATH)",
            where,
        )
    file = rest[1:] if rest.startswith("/") else rest
    if not file or file == ":memory:":
        raise doc.error("an in-memory SQLite registry holds nothing to scan", where)
    path = Path(file.split("?", 1)[0])
    return path if path.is_absolute() else base / path


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


# --------------------------------------------------------------------------- decoding


def load(registry: RegistryFile) -> Any:
    """The decoded ``Registry`` message (for the SQL registry: assembled from its rows)."""
    if not registry.path.is_file():
        raise InputError(
            "registry file does not exist (has `feast apply` been run?)", path=str(registry.path)
        )
    if registry.storage == "sql" or _is_sqlite(registry.path):
        return _load_sql(registry.path)
    return _load_file(registry.path)


def _load_file(path: Path) -> Any:
    size = path.stat().st_size
    if size == 0:
        raise InputError("registry file is empty", path=str(path))
    if size > MAX_REGISTRY_BYTES:
        raise InputError(f"registry file is {size} bytes, more than featmesh reads", path=str(path))
    registry = message_class("Registry")()
    try:
        registry.ParseFromString(path.read_bytes())
    except DecodeError as err:
        raise InputError(
            f"not a Feast registry: the file does not decode as a protobuf Registry ({err}); "
            "is it truncated?",
            path=str(path),
        ) from None
    if not _holds_feast_objects(registry):
        raise InputError(
            "not a Feast registry: no project, entity, feature view or data source decoded",
            path=str(path),
        )
    return registry


def _holds_feast_objects(registry: Any) -> bool:
    return bool(
        registry.projects
        or registry.project_metadata
        or registry.entities
        or registry.feature_views
        or registry.data_sources
        or registry.registry_schema_version
    )


def _load_sql(path: Path) -> Any:
    registry = message_class("Registry")()
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise InputError(f"cannot open the SQLite registry: {err}", path=str(path)) from None
    try:
        tables = _tables(connection, path)
        if "feature_views" not in tables or "entities" not in tables:
            raise InputError(
                "SQLite file holds no Feast SQL registry (no feature_views and entities tables)",
                path=str(path),
            )
        for table, (column, _message) in SQL_TABLES.items():
            if table in tables:
                _read_rows(connection, path, table, column, getattr(registry, table))
        _add_project_ids(connection, tables, registry)
    finally:
        connection.close()
    return registry


def _tables(connection: sqlite3.Connection, path: Path) -> set[str]:
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}
    except sqlite3.DatabaseError as err:
        raise InputError(f"not a readable SQLite database: {err}", path=str(path)) from None


def _read_rows(connection: sqlite3.Connection, path: Path, table: str, column: str, target: Any) -> None:
    query = f"SELECT project_id, {column} FROM {table} ORDER BY project_id, rowid"
    try:
        rows = connection.execute(query).fetchall()
    except sqlite3.DatabaseError as err:
        raise InputError(f"cannot read table {table}: {err}", path=str(path)) from None
    for index, (project, blob) in enumerate(rows):
        try:
            message = target.add()
            message.MergeFromString(bytes(blob))
        except (DecodeError, TypeError) as err:
            raise InputError(
                f"{column} of project '{project}' does not decode as a protobuf ({err})",
                path=str(path),
                where=f"table {table}, row {index + 1}",
            ) from None
        _own_project(message, project)


def _own_project(message: Any, project: str) -> None:
    """The row's ``project_id`` is authoritative: Feast leaves some specs' project empty."""
    holder = message.spec if message.DESCRIPTOR.fields_by_name.get("spec") else message
    if "project" in holder.DESCRIPTOR.fields_by_name and not holder.project:
        holder.project = project


def _add_project_ids(connection: sqlite3.Connection, tables: set[str], registry: Any) -> None:
    """Older SQL registries have no ``projects`` table: their projects are only ids."""
    if "feast_metadata" not in tables:
        return
    known = {p.spec.name for p in registry.projects}
    for (project,) in connection.execute("SELECT DISTINCT project_id FROM feast_metadata"):
        if project not in known:
            registry.project_metadata.add(project=project)

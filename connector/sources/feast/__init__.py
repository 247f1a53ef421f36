"""The ``feast`` source: a Feast feature repo's registry, read without Feast.

``feast:PATH`` where PATH is a feature repo folder (its ``feature_store.yaml`` names
the registry), a ``feature_store.yaml``, or a registry file: the file registry
(``registry.db``, one protobuf message) or the SQL registry on SQLite. The registry
is decoded with the ``protobuf`` package and featmesh's own subset schema
(:mod:`.schema`); the repo's Python is never imported and the Feast SDK never loaded,
since loading a registry through it unpickles stored transformation code.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featmesh.connector.sources import Reader

if TYPE_CHECKING:
    from featmesh.connector.model import FeatureStore
    from featmesh.connector.runreport import SourceReport

KIND = "feast"
CONFIG_NAME = "feature_store.yaml"
"""The file naming a Feast repo's registry; detection goes by it, so that deciding a
source's kind imports no decoder (protobuf and the registry schema load on reading)."""


def read(location: str, report: SourceReport, options: Mapping[str, Any]) -> list[FeatureStore]:
    from featmesh.connector.sources.feast import identity, mapping, registry
    from featmesh.connector.sources.feast.pylines import RepoLines

    found = registry.locate(location)
    decoded = registry.load(found)
    report.count(f"{found.storage}_registry")
    root = _repo_root(Path(location), found.path)
    lines = RepoLines(root)
    stores = mapping.stores(decoded, uri=location, origin=str(found.path), report=report, lines=lines.of)
    stores = [identity.qualify(s, root, report) for s in stores]
    if found.project and found.project not in {s.name for s in stores}:
        report.warn(
            f"{found.path}: feature_store.yaml names project '{found.project}', "
            "which the registry does not hold (has `feast apply` been run?)"
        )
    return stores


def _repo_root(location: Path, registry_path: Path) -> Path:
    """The folder Feast resolves a repo's relative paths against: the folder of
    ``feature_store.yaml`` (for a bare registry file, the one beside it or in the
    folder above, as ``feast init`` lays a repo out), else the registry's folder."""
    if location.is_dir():
        return location
    if location.name == CONFIG_NAME:
        return location.parent
    for folder in (registry_path.parent, registry_path.parent.parent):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return registry_path.parent


def detect(path: Path) -> bool:
    """A folder with ``feature_store.yaml``, that file itself, or a registry file."""
    if path.is_dir():
        return (path / CONFIG_NAME).is_file()
    if path.name == CONFIG_NAME:
        return True
    if path.suffix in (".db", ".pb", ".sqlite") and path.is_file():
        from featmesh.connector.sources.feast import registry

        try:
            return bool(registry.load(registry.locate(str(path))).ListFields())
        except Exception:  # detection must never fail the parse of an argument
            return False
    return False


READER = Reader(
    kind=KIND,
    read=read,
    detect=detect,
    description="Feast feature repo: file registry (registry.db) or SQL registry on SQLite",
)

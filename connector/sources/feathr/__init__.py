"""The ``feathr`` source: Feathr feature definitions in HOCON ``.conf`` files.

Location: ``feathr:PATH``, a ``.conf`` file or a workspace folder (every ``*.conf``
below it is read; files declaring none of ``sources``, ``anchors``, ``derivations``,
such as join or generation configs, are skipped and counted). The store is named
after the folder, or after the file's stem.

Anchors become feature sets (keys, features with their ``def``, type, aggregation
and window, lineage to the anchor's source); derivations become derived feature
sets with lineage to the sets defining their inputs. Feature definitions written
in Python are not executed: only ``.conf`` files are read. Needs the ``feathr``
extra (pyhocon).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featmesh.connector.errors import InputError
from featmesh.connector.sources import Reader

if TYPE_CHECKING:
    from featmesh.connector.model import FeatureStore
    from featmesh.connector.runreport import SourceReport

KIND = "feathr"
_DECLARES = re.compile(r"^[ \t]*(?:anchors|derivations)\s*[:={]", re.MULTILINE)
_MAX_FILES = 2000


def detect(path: Path) -> bool:
    """A ``.conf`` file declaring anchors or derivations, or a folder holding one."""
    files = [path] if path.is_file() else _conf_files(path)[:50] if path.is_dir() else []
    return any(_declares_features(f) for f in files)


def read(location: str, report: SourceReport, options: Mapping[str, Any]) -> list[FeatureStore]:
    """The stores of a ``.conf`` file or workspace folder (pyhocon loads only here)."""
    from featmesh.connector.sources.feathr.reader import read as read_workspace

    return read_workspace(location, report, options)


def _conf_files(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*.conf")):
        relative = path.relative_to(folder).parts
        if path.is_file() and not any(p.startswith(".") for p in relative):
            found.append(path)
        if len(found) > _MAX_FILES:
            raise InputError(f"more than {_MAX_FILES} .conf files", path=str(folder))
    return found


def _declares_features(path: Path) -> bool:
    if path.suffix != ".conf":
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(65536).decode("utf-8", errors="replace")
    except OSError:
        return False
    return bool(_DECLARES.search(head))


READER = Reader(
    kind=KIND,
    read=read,
    detect=detect,
    description="Feathr feature definitions (HOCON .conf: sources, anchors, derivations)",
)

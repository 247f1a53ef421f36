"""Reading a Feathr workspace (the ``feathr`` source: see the package)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from featmesh.connector import progress
from featmesh.connector.documents import load_yaml
from featmesh.connector.errors import InputError
from featmesh.connector.model import FeatureSet, FeatureStore, KeyPlace, LazyKeys, Origin
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources.feathr import _conf_files
from featmesh.connector.sources.feathr.convert import (
    KIND,
    Located,
    anchor_set,
    derived_set,
    inherit_keys,
    source_ref,
)
from featmesh.connector.sources.feathr.hocon import parse_conf, plain
from featmesh.connector.sources.feathr.includes import expand
from featmesh.connector.sources.feathr.lines import feature_names, key_lines
from featmesh.connector.sources.localfiles import store_files

SECTIONS = ("sources", "anchors", "derivations")


def read(location: str, report: SourceReport, options: Mapping[str, Any]) -> list[FeatureStore]:
    root = Path(location)
    if not root.exists():
        raise InputError("no such file or folder", path=location)
    files = [root] if root.is_file() else _conf_files(root)
    if not files:
        raise InputError("folder holds no Feathr config (*.conf)", path=location)
    workspace = root if root.is_dir() else root.parent
    included = _included(files, workspace)
    sections: dict[str, dict[str, Located]] = {s: {} for s in SECTIONS}
    with progress.meter(f"reading {location}", len(files), "files") as bar:
        for path in files:
            bar.advance()
            if path.resolve() in included:  # read as part of the file that includes it
                report.count("files_included")
                continue
            tree = plain(parse_conf(path, workspace))
            if not isinstance(tree, dict) or not any(s in tree for s in SECTIONS):
                report.count("files_skipped")
                continue
            report.count("files")
            text = path.read_text(encoding="utf-8", errors="replace")
            for section in SECTIONS:
                _collect(sections[section], section, tree.get(section), path, text)
    if root.is_dir():
        report.count("python_files_not_executed", sum(1 for _ in root.rglob("*.py")))
    # a relative path is found beside the conf naming it, named by its path in the workspace
    return [store_files(_build(workspace_name(root), location, sections, report), workspace_folder(root))]


def workspace_name(root: Path) -> str:
    """The store's name: ``project_config.project_name`` of the workspace's
    ``feathr_config.yaml`` (what the Feathr client registers the project as), else the
    workspace folder, whether the source names it, its ``feature_conf`` folder or a conf
    file in either (so all four name one store)."""
    folder = workspace_folder(root)
    project = _project_name(folder)
    return project or folder.name or root.stem


def workspace_folder(root: Path) -> Path:
    """The workspace a source names: its folder, the folder above a ``feature_conf``
    folder, or the folder of a conf file in either."""
    folder = (root if root.is_dir() else root.parent).resolve()
    if folder.name in ("feature_conf", "feature_join_conf") and folder.parent.name:
        folder = folder.parent
    return folder


def _project_name(folder: Path) -> str | None:
    for name in ("feathr_config.yaml", "feathr_config.yml"):
        path = folder / name
        if not path.is_file():
            continue
        data = load_yaml(path).data
        config = data.get("project_config") if isinstance(data, dict) else None
        project = config.get("project_name") if isinstance(config, dict) else None
        if project is not None and str(project).strip():
            return str(project).strip()
    return None


def _included(files: list[Path], workspace: Path) -> set[Path]:
    """Files that another file of the workspace includes (HOCON ``include "x.conf"``);
    a refused include is an error of the file holding it."""
    found: set[Path] = set()
    for path in files:
        found.update(expand(path, workspace).files)
    return found


def _build(
    store: str, location: str, sections: dict[str, dict[str, Located]], report: SourceReport
) -> FeatureStore:
    refs = {name: source_ref(item) for name, item in sections["sources"].items()}
    sets: list[FeatureSet] = [anchor_set(store, item, refs, report) for item in sections["anchors"].values()]
    owners: dict[str, str] = {}
    for fs in sets:
        for f in fs.features:
            if f.name in owners:
                report.warn(f"{fs.origin}: feature '{f.name}' is also defined by anchor '{owners[f.name]}'")
            owners.setdefault(f.name, fs.name)
    for name, item in sections["derivations"].items():
        if name in sections["anchors"]:
            raise InputError(
                f"derivation '{name}' has the name of an anchor ({sections['anchors'][name].origin})",
                path=item.origin.path,
                where=str(item.origin.line or "") or None,
            )
        owners.setdefault(name, name)
    sets += [derived_set(store, item, owners, report) for item in sections["derivations"].values()]
    sets = inherit_keys(sets)
    report.count("sources", len(refs))
    return FeatureStore(kind=KIND, name=store, uri=location, feature_sets=tuple(sets))


def _collect(into: dict[str, Located], section: str, raw: Any, path: Path, text: str) -> None:
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise InputError(f"'{section}' must be an object", path=str(path), where=_line(text, section))
    for name, value in raw.items():
        line = _line(text, name, after=section)
        if name in into:
            raise InputError(
                f"{section}.{name} is defined twice (first at {into[name].origin})",
                path=str(path),
                where=line,
            )
        keys: Iterable[tuple[str, KeyPlace]] = (
            () if section == "sources" else _lazy_lines(text, section, name, value)
        )
        origin = Origin(
            path=str(path), line=int(line) if line else None, pointer=f"{section}.{name}", keys=keys
        )
        into[name] = Located(name=name, raw=value, origin=origin)


def _lazy_lines(text: str, section: str, name: str, value: Any) -> LazyKeys:
    """The key lines of an anchor or derivation, searched for only when a finding needs one."""
    return LazyKeys(_conf_lines, text, section, name, value)


def _conf_lines(text: str, section: str, name: str, value: Any) -> tuple[tuple[str, KeyPlace], ...]:
    return key_lines(text, section, name, feature_names(value))


def _line(text: str, key: str, after: str | None = None) -> str | None:
    """The line of the first ``key:`` (after the first ``after:``), for messages."""
    start = 0
    if after:
        head = re.search(rf'^[ \t]*"?{re.escape(after)}"?\s*[:={{.]', text, re.MULTILINE)
        start = head.start() if head else 0
    found = re.compile(rf'^[ \t]*"?{re.escape(key)}"?\s*[:={{.]', re.MULTILINE).search(text, start)
    return str(text.count("\n", 0, found.start()) + 1) if found else None

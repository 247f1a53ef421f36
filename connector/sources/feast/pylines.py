"""Where a Feast repo's Python defines each view: the file and line of its
``FeatureView(...)`` call (or ``@on_demand_feature_view(...)`` decorator), of each
``Field(...)`` in its schema, and of the keywords rules are about (``owner=``, ``ttl=``,
``entities=``...).

The registry holds no positions; the repo it was applied from does. Its ``*.py`` files
are parsed with :mod:`ast` (never imported or run), once per repo, and only when a finding
needs a line: a clean run never reads them. A view no file defines (the registry was built
elsewhere, or the repo changed since) keeps the registry file as its place.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from featmesh.connector.model import KeyPlace

VIEW_CALLS = frozenset({"FeatureView", "BatchFeatureView", "StreamFeatureView", "OnDemandFeatureView"})
VIEW_DECORATORS = frozenset({"on_demand_feature_view", "stream_feature_view", "batch_feature_view"})
SET_KEYWORDS = {
    "name": "name",
    "owner": "owner",
    "description": "description",
    "tags": "tags",
    "ttl": "ttl",
    "entities": "entities",
    "source": "sources",
    "sources": "sources",
    "timestamp_field": "timestamp_field",
}
"""Keyword of a view call -> the key of the model it sets."""
FIELD_KEYWORDS = {"name": "name", "dtype": "dtype", "description": "description", "tags": "tags"}
SKIP_FOLDERS = frozenset({"__pycache__", "node_modules", "site-packages", "venv", "env"})
MAX_FILES = 2000
MAX_BYTES = 2 * 1024 * 1024

Lines = tuple[tuple[str, KeyPlace], ...]


class RepoLines:
    """The key lines of every view a repo's Python defines, by view name (found on first use)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._views: dict[str, Lines] | None = None

    def of(self, view: str) -> Lines:
        if self._views is None:
            self._views = {}
            for path in _python_files(self.root):
                for name, lines in _views_in(path):
                    self._views.setdefault(name, lines)
        return self._views.get(view, ())


def _python_files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    count = 0
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts[:-1]
        if any(p.startswith(".") or p in SKIP_FOLDERS for p in parts):
            continue
        count += 1
        if count > MAX_FILES:
            return
        yield path


def _views_in(path: Path) -> Iterator[tuple[str, Lines]]:
    try:
        if path.stat().st_size > MAX_BYTES:
            return
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return  # a file that does not parse defines nothing featmesh can place
    where = str(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in VIEW_CALLS:
            name = _keyword_text(node, "name")
            if name:
                yield name, _lines(where, node, node.lineno)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and _name(decorator.func) in VIEW_DECORATORS:
                    name = _keyword_text(decorator, "name") or node.name
                    yield name, _lines(where, decorator, decorator.lineno)


def _lines(path: str, call: ast.Call, line: int) -> Lines:
    found: list[tuple[str, KeyPlace]] = [("", (path, line))]
    for keyword in call.keywords:
        key = SET_KEYWORDS.get(keyword.arg or "")
        if key:
            found.append((key, (path, keyword.value.lineno)))
        if keyword.arg in ("schema", "features") and isinstance(keyword.value, (ast.List, ast.Tuple)):
            for item in keyword.value.elts:  # Field(...), or Feature(...) before Feast 0.20
                if isinstance(item, ast.Call) and _name(item.func) in ("Field", "Feature"):
                    found += _field_lines(path, item)
    return tuple(found)


def _field_lines(path: str, call: ast.Call) -> list[tuple[str, KeyPlace]]:
    name = _keyword_text(call, "name")
    if (
        not name
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    ):
        name = call.args[0].value
    if not name:
        return []
    prefix = f"features.{name}"
    found: list[tuple[str, KeyPlace]] = [(prefix, (path, call.lineno))]
    for keyword in call.keywords:
        key = FIELD_KEYWORDS.get(keyword.arg or "")
        if key:
            found.append((f"{prefix}.{key}", (path, keyword.value.lineno)))
    return found


def _name(func: ast.expr) -> str:
    """``FeatureView`` for ``FeatureView(...)`` and ``feast.FeatureView(...)``."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _keyword_text(call: ast.Call, name: str) -> str | None:
    for keyword in call.keywords:
        if (
            keyword.arg == name
            and isinstance(keyword.value, ast.Constant)
            and isinstance(keyword.value.value, str)
        ):
            return keyword.value.value
    return None

"""Files of a store's own folder, named the same in every checkout of it.

A source path written relative (``data/driver_stats.parquet``) reads a file that comes
with the store's repo. Its absolute path differs between two clones, a CI runner and a
laptop, and its bare relative path is the same for two teams with the same layout, so
neither names a data product. Such a source is named by its store and its path inside
the store's folder::

    file:feast/driver_ranking/data/driver_stats.parquet
    file:manifest/fraud-lab/../data/payments_transactions.parquet

(``KIND:STORE-KIND/STORE/PATH``, PATH in ``/`` form and normalised, ``..`` kept where it
leaves the folder). The path as written stays in ``extra["path_as_written"]`` and the
absolute path on this machine in :attr:`SourceRef.location`, which profiling opens and
nothing stores or hashes. Absolute paths and URIs are left as written: they name the same
data wherever the store is read.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path, PureWindowsPath

from featmesh.connector.model import FeatureSet, FeatureStore, SourceRef
from featmesh.connector.sources.common import infer_source_kind

LOCAL_KINDS = ("file", "delta")
"""Source kinds that can be a path on disk (a file, a folder of files, a Delta folder)."""
WRITTEN = "path_as_written"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def is_relative_path(uri: str) -> bool:
    """A plain path relative to some folder: no scheme, not absolute, not ``~``.

    >>> is_relative_path("data/x.parquet"), is_relative_path("/data/x"), is_relative_path("s3://b/k")
    (True, False, False)
    """
    if not uri or _SCHEME.match(uri) or uri.startswith(("/", "\\", "~")):
        return False
    return not PureWindowsPath(uri).is_absolute()


def located(ref: SourceRef, base: Path) -> SourceRef:
    """``ref`` with its :attr:`~SourceRef.location` when it reads a file by a path relative
    to ``base`` (the folder the store resolves it against); else ``ref`` unchanged."""
    if ref.location or ref.kind not in LOCAL_KINDS or not is_relative_path(ref.uri):
        return ref
    if ref.kind == "delta" and infer_source_kind(ref.uri) != "file":
        return ref  # a metastore table name (schema.table), not a folder
    return replace(ref, location=os.path.normpath(os.path.join(os.path.abspath(base), ref.uri)))


def store_file(ref: SourceRef, store_kind: str, store: str, root: Path | None) -> SourceRef:
    """A located file named by its store and its path inside ``root`` (None: the path as
    written, normalised, for stores whose files are relative to the file naming them)."""
    if ref.location is None or WRITTEN in ref.extra or not is_relative_path(ref.uri):
        return ref
    if root is None:
        path = posixpath.normpath(ref.uri.replace("\\", "/"))
    else:
        path = Path(os.path.relpath(ref.location, os.path.abspath(root))).as_posix()
    return replace(ref, uri=f"{ref.kind}:{store_kind}/{store}/{path}", extra={**ref.extra, WRITTEN: ref.uri})


def _origin_folder(fs: FeatureSet) -> Path | None:
    return Path(fs.origin.path).parent if fs.origin is not None and fs.origin.path else None


def store_files(
    store: FeatureStore,
    root: Path | None,
    base: Callable[[FeatureSet], Path | None] = _origin_folder,
) -> FeatureStore:
    """Every relative file path of ``store``'s sets located against ``base(fs)`` (default:
    the folder of the file defining the set) and named by the store and its path in
    ``root`` (see :func:`store_file`)."""
    sets = []
    for fs in store.feature_sets:
        folder = base(fs)
        refs = tuple(
            store_file(located(r, folder) if folder is not None else r, store.kind, store.name, root)
            for r in fs.sources
        )
        # a location alone compares equal: tell the new refs by identity
        changed = any(new is not old for new, old in zip(refs, fs.sources, strict=True))
        sets.append(replace(fs, sources=refs) if changed else fs)
    return replace(store, feature_sets=tuple(sets))


def rescoped(ref: SourceRef, store_kind: str, old: str, new: str) -> SourceRef:
    """``ref`` named by store ``new`` where its URI names store ``old`` (a store given another
    name in featmesh.yaml): ``file:feast/OLD/x`` -> ``file:feast/NEW/x``, and the same for
    push, request, plugin and unparsed query sources (``KIND:query/feast/OLD/NAME``)."""
    for head in (f"{ref.kind}:", f"{ref.kind}:query/"):
        scope = f"{head}{store_kind}/{old}/"
        if ref.uri.startswith(scope):
            return replace(ref, uri=f"{head}{store_kind}/{new}/{ref.uri[len(scope) :]}")
    return ref

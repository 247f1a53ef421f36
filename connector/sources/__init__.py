"""Source readers: one per store kind, each returning the neutral model.

Readers are found through the entry-point group ``featmesh.sources``; each entry point
names a :class:`Reader`. Nothing registers itself on import and no list of readers is
kept by hand: a third-party package adds a store kind by declaring an entry point.

A source argument is ``KIND:LOCATION`` (``feast:repo/``, ``databricks:https://...``)
or a bare path whose kind each reader's ``detect`` decides.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from featmesh.connector import redact
from featmesh.connector.errors import InputError, SourceError, UsageError
from featmesh.connector.model import FeatureSetRef, FeatureStore
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources.localfiles import rescoped

GROUP = "featmesh.sources"

ReadFn = Callable[[str, SourceReport, Mapping[str, Any]], list[FeatureStore]]
"""``read(location, report, options)``: the stores found at ``location``.

Raises :class:`InputError` for input featmesh cannot use (the message names the file
and the place in it) and :class:`SourceError` for failures that are not the input's
fault. Non-fatal problems go to ``report.warn``.
"""


@dataclass(frozen=True, kw_only=True)
class Reader:
    kind: str
    read: ReadFn
    detect: Callable[[Path], bool] = field(default=lambda _path: False)
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class SourceSpec:
    kind: str
    location: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        """The source as shown in messages, summaries and run records: credentials
        someone put in a URL (``https://user:secret@host``) are never repeated."""
        return f"{self.kind}:{redact_uri(self.location)}"


_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def redact_uri(text: str) -> str:
    """``scheme://user:secret@host/...`` -> ``scheme://***@host/...``."""
    return _USERINFO.sub("***@", text)


@cache
def readers() -> dict[str, Reader]:
    """The installed readers by kind (loaded once, lazily)."""
    found: dict[str, Reader] = {}
    for ep in entry_points(group=GROUP):
        reader = ep.load()
        if not isinstance(reader, Reader):
            raise TypeError(f"entry point {ep.name} = {ep.value} is not a featmesh Reader")
        found[ep.name] = reader
    return found


def parse_source(arg: str, options: Mapping[str, Any] | None = None) -> SourceSpec:
    """``KIND:LOCATION`` or a bare path whose kind is detected."""
    kinds = readers()
    prefix, sep, rest = arg.partition(":")
    if sep and prefix in kinds:
        if not rest:
            raise UsageError(f"source '{arg}': nothing after '{prefix}:'")
        return SourceSpec(kind=prefix, location=rest, options=options or {})
    if sep and len(prefix) > 1 and "/" not in prefix and "\\" not in prefix:
        known = ", ".join(sorted(kinds))
        raise UsageError(f"source '{arg}': unknown kind '{prefix}' (installed kinds: {known})")
    path = Path(arg)
    if not path.exists():
        raise InputError("no such file or folder", path=arg)
    for kind, reader in sorted(kinds.items()):
        if reader.detect(path):
            return SourceSpec(kind=kind, location=arg, options=options or {})
    known = ", ".join(f"{k}:" for k in sorted(kinds))
    raise UsageError(
        f"source '{arg}': cannot tell what kind of feature store this is; prefix it with one of {known}"
    )


def read_source(spec: SourceSpec, report: SourceReport) -> list[FeatureStore]:
    """Read one source. ``options["env"]`` maps the variables a reader expects to the
    variables that hold them here (a config's credentials by reference)."""
    reader = readers().get(spec.kind)
    if reader is None:
        raise UsageError(f"no reader for source kind '{spec.kind}'")
    options = {k: v for k, v in spec.options.items() if k not in ("env", "store")}
    with environment(spec.options.get("env") or {}, what=spec.uri):
        stores = reader.read(spec.location, report, options)
    if spec.options.get("store"):
        stores = [_renamed(spec, stores, str(spec.options["store"]))]
    report.feature_sets = sum(len(s.feature_sets) for s in stores)
    return stores


def _renamed(spec: SourceSpec, stores: list[FeatureStore], name: str) -> FeatureStore:
    """The one store a source gave, under the name its configuration gives it (every
    set, every reference inside the store, and the data its sets name by their store
    (files of its folder, push and request sources) follow)."""
    if len(stores) != 1:
        found = ", ".join(s.name for s in stores) or "none"
        raise UsageError(
            f"source {spec.uri}: a store name can only be given to a source holding one store "
            f"(this one holds: {found})"
        )
    store = stores[0]

    def ref(r: FeatureSetRef) -> FeatureSetRef:
        same = r.store_kind == store.kind and r.store == store.name
        return replace(r, store=name) if same else r

    sets = tuple(
        replace(
            fs,
            store=name,
            derived_from=tuple(ref(r) for r in fs.derived_from),
            sources=tuple(rescoped(s, store.kind, store.name, name) for s in fs.sources),
        )
        for fs in store.feature_sets
    )
    return replace(store, name=name, feature_sets=sets)


@contextmanager
def environment(aliases: Mapping[str, str], *, what: str) -> Iterator[None]:
    """Expose ``os.environ[holder]`` as ``expected`` while a source is read.

    Only names appear in errors; values are never logged or returned.
    """
    saved: dict[str, str | None] = {}
    try:
        for expected, holder in aliases.items():
            redact.register_variable(holder)
            if holder not in os.environ:
                raise SourceError(f"{what}: environment variable {holder} (for {expected}) is not set")
            saved[expected] = os.environ.get(expected)
            os.environ[expected] = os.environ[holder]
        yield
    finally:
        for expected, value in saved.items():
            if value is None:
                os.environ.pop(expected, None)
            else:
                os.environ[expected] = value

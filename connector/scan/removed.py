"""Sources no longer scanned: in the last scan of featmesh.yaml's sources, not in this one.

A source taken out of the config leaves its stores in the catalog as last scanned. Each
scan of the config's sources names every such source (a warning in the run record and on
stderr) until it is back or its stores are retired (``scan --retire-removed``): the run
record carries the ones not retired yet to the next scan. The stores of a source come
from the newest run that read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from featmesh.connector.runreport import SourceReport


@dataclass(frozen=True, kw_only=True)
class Removed:
    uri: str
    stores: tuple[str, ...]
    """The store qualifiedNames it gave when last read (empty: not known)."""
    since: str | None = None
    """The run that last read it."""

    def to_json(self, *, retired: bool) -> dict[str, Any]:
        return {"uri": self.uri, "stores": list(self.stores), "last_run": self.since, "retired": retired}


def removed_sources(history: Sequence[Mapping[str, Any]], scanned: Iterable[SourceReport]) -> list[Removed]:
    """The sources the last scan of the config read (or still listed as removed and not
    retired) that this run does not read. ``history``: the run records, newest first. A
    store this run reads from another source is not counted as removed."""
    scanned = list(scanned)
    last = next((r for r in history if r.get("command") == "scan" and r.get("config_sources")), None)
    if last is None:
        return []
    now = {s.uri for s in scanned}
    now_stores = {store for s in scanned for store in s.stores}
    found: dict[str, str | None] = {}
    for source in last.get("sources") or []:
        if isinstance(source, Mapping) and source.get("uri") not in now:
            found.setdefault(str(source.get("uri")), last.get("run_id"))
    for entry in last.get("removed_sources") or []:
        if isinstance(entry, Mapping) and not entry.get("retired") and entry.get("uri") not in now:
            found.setdefault(str(entry.get("uri")), entry.get("last_run"))
    out = []
    for uri, since in found.items():
        stores = _stores_of(uri, history)
        left = tuple(s for s in stores if s not in now_stores)
        if stores and not left:
            continue  # every store it gave is read from another source now: moved, not removed
        out.append(Removed(uri=uri, stores=left, since=since))
    return sorted(out, key=lambda r: r.uri)


def _stores_of(uri: str, history: Sequence[Mapping[str, Any]]) -> list[str]:
    for record in history:
        for entry in [*(record.get("sources") or []), *(record.get("removed_sources") or [])]:
            if isinstance(entry, Mapping) and entry.get("uri") == uri and entry.get("stores"):
                return [str(s) for s in entry["stores"]]
    return []

"""What checks see besides the feature set at hand: the mesh and the profiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from featmesh.connector.model import (
    ColumnProfile,
    Consumer,
    ContractTerms,
    DatasetProfile,
    FeatureDrift,
    FeatureSet,
)

PARENT_HASHES = "parent_hashes"
"""``FeatureSet.extra`` key a source fills when it can tell which definition of each
parent a derived set was built from: ``{parent qualifiedName: parent content_hash}``."""


@dataclass
class Mesh:
    """Every feature set known to the run: those read now and, with ``--catalog``,
    those already published (a set read now replaces its published copy)."""

    sets: Sequence[FeatureSet]
    local: frozenset[str]
    """qualifiedNames of the sets read in this run (the ones results are about)."""
    previous: Sequence[FeatureSet] = ()
    """With ``--catalog``: the published versions of the sets read now, as published
    (what a change to a local definition is compared with)."""
    consumers: Sequence[Consumer] = ()
    """Models, services and endpoints known to read the mesh's sets."""
    by_qn: Mapping[str, FeatureSet] = field(init=False)
    _qn: dict[int, str] = field(init=False, repr=False)
    _local_ids: frozenset[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._qn = {id(fs): fs.qualified_name for fs in self.sets}
        self.by_qn = {self._qn[id(fs)]: fs for fs in self.sets}
        self._local_ids = frozenset(i for i, qn in self._qn.items() if qn in self.local)

    @classmethod
    def of(
        cls,
        local: Sequence[FeatureSet],
        published: Sequence[FeatureSet] = (),
        order: Mapping[str, int] | None = None,
        previous: Sequence[FeatureSet] = (),
        consumers: Sequence[Consumer] = (),
    ) -> Mesh:
        """``order``: qualifiedName -> position, the order the mesh-wide checks meet the
        sets in (the sets it does not name keep theirs, after it); an incremental scan
        passes the order of a full one so both pick the same examples. ``previous`` and
        ``consumers`` are for the breaking-change rules."""
        names = frozenset(fs.qualified_name for fs in local)
        others = [fs for fs in published if fs.qualified_name not in names]
        sets = [*local, *others]
        if order:
            end = len(order)
            keyed = sorted(
                ((order.get(fs.qualified_name, end), i) for i, fs in enumerate(sets)),
            )
            sets = [sets[i] for _, i in keyed]
        return cls(sets=sets, local=names, previous=previous, consumers=consumers)

    def is_local(self, fs: FeatureSet) -> bool:
        return id(fs) in self._local_ids

    def qn(self, fs: FeatureSet) -> str:
        """The set's qualifiedName (computed once per set of the mesh)."""
        found = self._qn.get(id(fs))
        return found if found is not None else fs.qualified_name

    def feature_qn(self, fs: FeatureSet, feature: str) -> str:
        return f"{self.qn(fs)}#{feature}"


@dataclass
class CheckContext:
    mesh: Mesh
    profiles: Mapping[str, DatasetProfile] = field(default_factory=dict)
    drift: Mapping[str, Sequence[FeatureDrift]] = field(default_factory=dict)
    contracts: Mapping[str, ContractTerms] = field(default_factory=dict)
    """What data contracts promise, by the table or path feature sets read."""
    _columns: dict[str, dict[str, ColumnProfile]] = field(default_factory=dict, repr=False)

    def profile(self, fs: FeatureSet) -> DatasetProfile | None:
        return self.profiles.get(fs.qualified_name)

    def columns(self, fs: FeatureSet) -> dict[str, ColumnProfile] | None:
        """The profile's columns by name, or None when the set has no profile."""
        profile = self.profile(fs)
        if profile is None:
            return None
        qn = fs.qualified_name
        cached = self._columns.get(qn)
        if cached is None:
            cached = self._columns[qn] = {c.name: c for c in profile.columns}
        return cached

    def feature_drift(self, fs: FeatureSet) -> Sequence[FeatureDrift]:
        return self.drift.get(fs.qualified_name, ())


def tag_true(tags: Mapping[str, Any], key: str) -> bool:
    """A tag counts as set when present and not false-like."""
    value = tags.get(key)
    return value is not None and str(value).strip().lower() not in ("", "false", "no", "0", "none")

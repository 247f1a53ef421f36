"""What every catalog offers featmesh: read current state, apply a plan, export, runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from featmesh.connector.catalog.plan import EntityJson, Key, Plan
from featmesh.connector.model import FeatureSet


@dataclass
class ApplyResult:
    """What an apply did. ``failed`` lists what could not be written, with why."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    retired: int = 0
    classifications: int = 0
    requests: int = 0
    failed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What was written, but not all of it (owners not shown as Purview contacts)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "retired": self.retired,
            "classifications": self.classifications,
            "requests": self.requests,
            "failed": list(self.failed),
        }


class Catalog(Protocol):
    uri: str
    transactional: bool
    """True where an apply is all-or-nothing (nothing to resume after a failure)."""
    reads_scopes_whole: bool
    """True where :meth:`current` reads every entity under a scope by itself (from an
    index), so that keys under the scopes add nothing: a scan leaves its sets' own keys
    out (``mesh_keys(own=False)``)."""

    def sync_typedefs(self, *, dry_run: bool = False) -> dict[str, list[str]]:
        """Create or update featmesh's types; returns names by ``create``/``update``."""
        ...

    def exists(self, type_name: str, qualified_name: str) -> bool: ...

    def generation(self) -> str | None:
        """A mark that changes with every write to the catalog, or None where the catalog
        cannot tell (others may write to it): a scan skips re-planning the entities of
        unchanged sets only while the mark is the one its last scan recorded."""
        ...

    def columns(self, type_name: str, qualified_name: str) -> frozenset[str] | None:
        """The column names of the schema the catalog shows for an entity it holds (the
        elements its type's ``options.schemaElementsAttribute`` names, one level of schema
        object followed): empty when it shows none, None when featmesh cannot tell."""
        ...

    def current(self, keys: Iterable[Key], scopes: Iterable[str]) -> dict[Key, EntityJson]:
        """The entities held for ``keys`` and every featmesh entity under ``scopes``
        (qualifiedName prefixes), as Atlas JSON with their classifications."""
        ...

    def fill(self, current: Mapping[Key, EntityJson]) -> None:
        """Read in full, at once, what :meth:`current` read of some entities by key only
        (the local catalog's features), before a plan compares them; a catalog that reads
        every entity whole does nothing."""
        ...

    def confirm(self, plan: Plan) -> dict[Key, EntityJson | None] | None:
        """What the catalog holds for the entities ``plan`` writes that :meth:`current`
        answered from featmesh's own record rather than the catalog ({} when none; None
        when the two disagree and :meth:`current` must be asked again)."""
        ...

    def apply(self, plan: Plan, *, run_id: str) -> ApplyResult: ...

    def export(self) -> list[EntityJson]: ...

    def published_feature_sets(self, *, exclude_stores: Iterable[tuple[str, str]] = ()) -> list[FeatureSet]:
        """Every published feature set but those of the (kind, name) stores excluded."""
        ...

    def published_models(self) -> list[EntityJson]:
        """Every model entity the catalog holds (the consumers of published sets)."""
        ...

    def feature_set_versions(self, store_kind: str, store: str, name: str) -> list[str | None]: ...

    def record_profiles(self, run_id: str, rows: Iterable[tuple[str, str, str, str]]) -> None: ...

    def latest_profiles(self, feature_sets: Iterable[str]) -> dict[tuple[str, str], str]: ...

    def record_run(self, record: dict[str, Any]) -> None: ...

    def runs(self, limit: int = 50) -> list[dict[str, Any]]: ...

    def recent_runs(self, limit: int = 10) -> list[Mapping[str, Any]]:
        """The newest runs (newest first) as mappings decoded whole only when asked for more
        than the header a run's brief holds."""
        ...

    def briefs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest runs' headers and scores, without their results (``runs`` whole)."""
        ...

    def run(self, run_id: str, parts: Iterable[str] | None = None) -> dict[str, Any] | None:
        """One run's record; given ``parts`` (names of the record's large pieces,
        ``section.key`` such as ``evaluation.findings``), the catalog may leave the other
        large pieces out."""
        ...

    def last_scan(self, *, parts: Iterable[str] | None = None) -> dict[str, Any] | None:
        """The newest scan run recorded with an evaluation (among the last ten); ``parts``
        as for :meth:`run`."""
        ...

    def close(self) -> None: ...

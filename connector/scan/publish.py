"""The publishing stage of ``scan``: plan the mapped entities against the catalog, apply.

A catalog failure is recorded in the run report, never raised, so what was read and
evaluated stays recorded; a remote catalog gets the run's results stored before the push
starts, so that ``scan --resume`` can finish it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from featmesh.connector import progress
from featmesh.connector.catalog import Catalog
from featmesh.connector.catalog.plan import Plan, compute_plan, owned
from featmesh.connector.errors import CatalogError
from featmesh.connector.mapping.business import GROUP
from featmesh.connector.mapping.entities import (
    DATA_PRODUCT,
    FEATURE_SET,
    abandoned_placeholders,
    is_placeholder,
    superseded_placeholders,
)
from featmesh.connector.runreport import RunReport

log = logging.getLogger(__name__)


def has_outcome(current: Mapping[tuple[str, str], dict[str, Any]], qn: str) -> bool:
    """The catalog holds the feature set with a featmesh outcome on it: its classification
    and its business metadata (a set written before featmesh wrote business metadata is
    evaluated again, once, so that it gets it)."""
    held = current.get((FEATURE_SET, qn))
    if held is None or GROUP not in (held.get("businessAttributes") or {}):
        return False
    return any(owned(c["typeName"]) for c in held.get("classifications", []))


def push(
    *,
    dry_run: bool,
    keep_deleted: bool,
    report: RunReport,
    catalog: Catalog,
    desired: list[dict[str, Any]],
    scopes: list[str],
    keep: set[str] | None = None,
    current: dict[tuple[str, str], dict[str, Any]] | None = None,
    retire: Sequence[str] = (),
    kept: Sequence[tuple[str, str]] = (),
) -> tuple[Plan, dict[str, Any] | None]:
    """Plan against the catalog and, unless a dry run, apply. A catalog failure is
    recorded in the report, never raised: what was read stays recorded. The feature sets
    in ``keep`` (skipped by an incremental scan) keep the classifications they have.
    Everything under the store qualifiedNames in ``retire`` is retired. The entities of
    ``kept`` (of sets the mapping did not map again: ``MeshMapping.kept``) are left as
    the catalog holds them and counted unchanged."""
    progress.step(f"planning {len(desired)} entities against {catalog.uri}")
    superseded = superseded_placeholders(desired)
    try:
        if current is None:
            current = catalog.current(
                [*((e["typeName"], e["attributes"]["qualifiedName"]) for e in desired), *superseded],
                [*scopes, *retire],
            )
        unchanged = _set_aside(catalog, current, kept)
        # placeholders the scanned stores' pipelines read before and read no more
        abandoned = abandoned_placeholders(current.values(), desired)
        missing = [k for k in abandoned if k not in current]
        if missing:  # data products: read in full by ``current``
            current.update(catalog.current(missing, []))
        # and those asked for by their former names (former_placeholder_keys)
        wanted = {(e["typeName"], e["attributes"]["qualifiedName"]) for e in desired}
        former = [k for k in current if k[0] == DATA_PRODUCT and is_placeholder(k[1]) and k not in wanted]
        superseded = [*superseded, *abandoned, *former]
    except CatalogError as err:
        report.fail(f"catalog unreachable, nothing was written: {err}")
        log.info("%s", err)  # recorded: the command prints it once
        return Plan(), None
    try:
        plan = _plan(catalog, desired, current, scopes, keep, keep_deleted, superseded, retire, kept)
        plan.kept = unchanged
    except CatalogError as err:
        report.fail(f"catalog unreachable, nothing was written: {err}")
        log.info("%s", err)  # recorded: the command prints it once
        return Plan(), None
    if dry_run:
        return plan, None
    if not catalog.transactional and plan.writes:
        # the run's results are stored locally before any push starts (nothing to resume
        # when nothing is to be written)
        catalog.record_run(
            {**report.to_json(), "status": "pushing", "pending": {"entities": desired, "scopes": scopes}}
        )
    counts = plan.counts()
    progress.step(
        f"applying to {catalog.uri}: {counts['create']} create, {counts['update']} update, "
        f"{counts['delete']} delete"
    )
    try:
        written = catalog.sync_typedefs()
        if written["create"] or written["update"]:
            report.count("typedefs_written", len(written["create"]) + len(written["update"]))
        applied = catalog.apply(plan, run_id=report.run_id)
    except CatalogError as err:
        report.fail(str(err))
        log.info("%s", err)  # recorded: the command prints it once
        return plan, None
    for failure in applied.failed:
        report.fail(failure)
    for warning in applied.warnings:
        report.warn(warning)
    return plan, applied.to_json()


def _plan(
    catalog: Catalog,
    desired: list[dict[str, Any]],
    current: dict[tuple[str, str], dict[str, Any]],
    scopes: list[str],
    keep: set[str] | None,
    keep_deleted: bool,
    superseded: list[tuple[str, str]],
    retire: Sequence[str],
    kept: Sequence[tuple[str, str]] = (),
) -> Plan:
    """The plan against ``current``; against what the catalog really holds for what it
    would write, when ``current`` came from what featmesh recorded (``Catalog.confirm``).
    The ``kept`` entities stay out of what is read again."""

    def planned() -> Plan:
        if keep:
            keep_classifications(desired, current, keep)
        return compute_plan(
            desired,
            current,
            delete_scope=scopes,
            protected=[DATA_PRODUCT],
            keep_deleted=keep_deleted,
            superseded=superseded,
            retire_scope=retire,
        )

    plan = planned()
    fresh = catalog.confirm(plan)
    if fresh is None:  # the catalog disagrees with the record: read it all again
        keys = [*((e["typeName"], e["attributes"]["qualifiedName"]) for e in desired), *superseded]
        current.clear()
        current.update(catalog.current(keys, [*scopes, *retire]))
        _set_aside(catalog, current, kept)
        return planned()
    if fresh:
        for key, entity in fresh.items():
            if entity is None:
                current.pop(key, None)
            else:
                current[key] = entity
        plan = planned()
    return plan


def _set_aside(
    catalog: Catalog, current: dict[tuple[str, str], dict[str, Any]], kept: Sequence[tuple[str, str]]
) -> int:
    """Take the ``kept`` entities out of ``current`` (the catalog holds them as they would
    be mapped: nothing to compare, nothing to delete), read the rest in full at once
    (``Catalog.fill``), and say how many were taken out."""
    held = len(current)
    for key in kept:
        current.pop(key, None)
    catalog.fill(current)
    return held - len(current)


def keep_classifications(
    desired: list[dict[str, Any]], current: Mapping[tuple[str, str], dict[str, Any]], keep: set[str]
) -> None:
    """Skipped sets and their features carry the featmesh classifications they have."""
    for entity in desired:
        key = (entity["typeName"], entity["attributes"]["qualifiedName"])
        if key[1].split("#", 1)[0] not in keep or key not in current:
            continue
        held = [c for c in current[key].get("classifications", []) if owned(c["typeName"])]
        if held:
            entity["classifications"] = held
        else:
            entity.pop("classifications", None)

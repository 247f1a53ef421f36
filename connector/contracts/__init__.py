"""Open Data Contract Standard (ODCS) v3 contracts of source data products.

A contract is YAML (``apiVersion: v3.0.x``, ``kind: DataContract``), validated against the
standard's published JSON Schema, shipped here unchanged as
``odcs-json-schema-v3.0.2.json`` (bitol-io/open-data-contract-standard,
``schema/odcs-json-schema-v3.0.2.json``, Apache License 2.0). featmesh reads what a
feature set depends on: each schema object's name and ``physicalName`` (the table or path
feature sets read), its properties (columns) with ``logicalType`` and ``physicalType``, the
contract's ``status`` and its freshness SLA (``slaProperties`` ``freshness`` or
``latency``, value and unit).

:func:`diff` lists the changes from one version of a contract to the next that break a
reader: a removed object or column, a changed type, a renamed table, a deprecated or
retired status, a tighter freshness promise withdrawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from featmesh.connector.documents import Document, load_schema, load_yaml, validate
from featmesh.connector.errors import InputError
from featmesh.connector.model import ContractTerms, normalize_dtype

SCHEMA_FILE = "odcs-json-schema-v3.0.2.json"
RETIRING = ("deprecated", "retired")
_UNIT_SECONDS = {
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip


@cache
def schema() -> dict[str, Any]:
    return load_schema(__package__ or "featmesh.connector.contracts", SCHEMA_FILE)


@dataclass(frozen=True, kw_only=True)
class Column:
    name: str
    logical_type: str | None = None
    physical_type: str | None = None

    @property
    def dtype(self) -> str:
        """The featmesh dtype the column's types normalise to (``unknown`` if neither does)."""
        found = normalize_dtype(self.physical_type)
        return found if found != "unknown" else normalize_dtype(self.logical_type)


@dataclass(frozen=True, kw_only=True)
class ContractObject:
    name: str
    physical_name: str | None = None
    columns: dict[str, Column] = field(default_factory=dict)

    @property
    def table(self) -> str:
        """What feature sets name when they read it: the physical name, else the name."""
        return self.physical_name or self.name


@dataclass(frozen=True, kw_only=True)
class Contract:
    id: str
    version: str
    status: str
    name: str | None = None
    domain: str | None = None
    data_product: str | None = None
    objects: dict[str, ContractObject] = field(default_factory=dict)
    freshness_seconds: int | None = None
    path: str = ""


def load_contract(path: Path | str) -> Contract:
    """Read and validate one ODCS v3 contract file (InputError naming the file and line)."""
    doc = load_yaml(path)
    validate(doc, schema())
    return _contract(doc)


def _contract(doc: Document) -> Contract:
    data = doc.data
    objects = {}
    for i, raw in enumerate(data.get("schema") or ()):
        if raw.get("name") in objects:
            raise doc.error(f"schema object '{raw['name']}' is declared twice", ("schema", i, "name"))
        columns = {
            str(p["name"]): Column(
                name=str(p["name"]), logical_type=p.get("logicalType"), physical_type=p.get("physicalType")
            )
            for p in raw.get("properties") or ()
            if p.get("name")
        }
        objects[str(raw["name"])] = ContractObject(
            name=str(raw["name"]), physical_name=raw.get("physicalName"), columns=columns
        )
    return Contract(
        id=str(data["id"]),
        version=str(data["version"]),
        status=str(data["status"]).lower(),
        name=data.get("name"),
        domain=data.get("domain"),
        data_product=data.get("dataProduct"),
        objects=objects,
        freshness_seconds=_freshness(data.get("slaProperties") or ()),
        path=doc.path,
    )


def _freshness(sla: Any) -> int | None:
    for entry in sla:
        if str(entry.get("property", "")).lower() in ("freshness", "latency"):
            value, unit = entry.get("value"), str(entry.get("unit") or "s").lower()
            if isinstance(value, (int, float)) and unit in _UNIT_SECONDS:
                return int(value * _UNIT_SECONDS[unit])
    return None


@dataclass(frozen=True, kw_only=True)
class Break:
    """One change of a contract that breaks readers of ``table`` (``column`` when it is
    about one column)."""

    table: str
    column: str | None
    change: str
    message: str


def diff(old: Contract, new: Contract) -> list[Break]:
    """The breaking changes from ``old`` to ``new``, objects and columns in ``old``'s order."""
    out: list[Break] = []
    if new.status in RETIRING and old.status not in RETIRING:
        for obj in old.objects.values():
            out.append(
                Break(table=obj.table, column=None, change="status", message=f"status becomes {new.status}")
            )
    for name, before in old.objects.items():
        after = new.objects.get(name)
        if after is None:
            out.append(
                Break(table=before.table, column=None, change="removed", message=f"object {name} removed")
            )
            continue
        if before.table != after.table:
            out.append(
                Break(
                    table=before.table,
                    column=None,
                    change="renamed",
                    message=f"object {name} moves from {before.table} to {after.table}",
                )
            )
        for column, was in before.columns.items():
            now = after.columns.get(column)
            if now is None:
                out.append(
                    Break(
                        table=before.table,
                        column=column,
                        change="removed",
                        message=f"column {column} removed",
                    )
                )
            elif was.dtype != now.dtype and "unknown" not in (was.dtype, now.dtype):
                out.append(
                    Break(
                        table=before.table,
                        column=column,
                        change="type",
                        message=f"column {column} changes type from {was.dtype} to {now.dtype}",
                    )
                )
    if old.freshness_seconds is not None and (
        new.freshness_seconds is None or new.freshness_seconds > old.freshness_seconds
    ):
        promised = f"{new.freshness_seconds} s" if new.freshness_seconds is not None else "nothing"
        for obj in old.objects.values():
            out.append(
                Break(
                    table=obj.table,
                    column=None,
                    change="freshness",
                    message=f"freshness promise goes from {old.freshness_seconds} s to {promised}",
                )
            )
    return out


def terms(contract: Contract) -> list[ContractTerms]:
    """The contract's promises, one per schema object."""
    return [
        ContractTerms(
            table=obj.table,
            contract=contract.id,
            version=contract.version,
            status=contract.status,
            columns={c.name: c.dtype for c in obj.columns.values()},
            freshness_seconds=contract.freshness_seconds,
            path=contract.path,
        )
        for obj in contract.objects.values()
    ]


def contract_files(paths: Iterable[Path]) -> list[Path]:
    """The contract files ``paths`` name (files, or folders of ``*.yaml`` / ``*.yml``)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for pattern in ("*.yaml", "*.yml") for p in path.rglob(pattern))
        elif path.is_file():
            files.append(path)
        else:
            raise InputError("no such contract file or folder", path=str(path))
    return files


def load_contracts(paths: Iterable[Path]) -> dict[str, ContractTerms]:
    """Every contract in ``paths`` (files, or folders of ``*.yaml`` / ``*.yml``) by table."""
    by_table: dict[str, ContractTerms] = {}
    for file in contract_files(paths):
        for promise in terms(load_contract(file)):
            known = by_table.get(promise.table)
            if known is not None and known.contract != promise.contract:
                raise InputError(
                    f"table {promise.table} is also promised by contract {known.contract} ({known.path})",
                    path=str(file),
                )
            if known is None or _rank(promise) > _rank(known):
                by_table[promise.table] = promise
    return by_table


def _rank(promise: ContractTerms) -> tuple[bool, tuple[int, ...]]:
    """In force (not a proposal or a draft) first, then the highest version."""
    return promise.status not in ("proposed", "draft"), _version(promise.version)


@dataclass(frozen=True, kw_only=True)
class Proposal:
    """A proposed (or draft) version of a contract, newer than the one in force, and the
    changes from the one in force that break readers."""

    current: Contract
    proposed: Contract
    breaks: tuple[Break, ...]


def proposals(paths: Iterable[Path]) -> list[Proposal]:
    """For each contract ``id`` in ``paths`` with a version in force, every proposed or
    draft version above it, with the breaking changes it would bring (none listed when a
    proposal breaks nothing)."""
    by_id: dict[str, list[Contract]] = {}
    for file in contract_files(paths):
        contract = load_contract(file)
        by_id.setdefault(contract.id, []).append(contract)
    out = []
    for versions in by_id.values():
        in_force = [c for c in versions if c.status not in ("proposed", "draft")]
        if not in_force:
            continue
        current = max(in_force, key=lambda c: _version(c.version))
        for candidate in sorted(versions, key=lambda c: _version(c.version)):
            if candidate.status in ("proposed", "draft") and _version(candidate.version) > _version(
                current.version
            ):
                out.append(
                    Proposal(current=current, proposed=candidate, breaks=tuple(diff(current, candidate)))
                )
    return out


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in text.split("."))

"""The run report: what each stage did, counted, with capped lists of problems.

Every stage adds to it; the CLI prints it and the catalog stores it with the run.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from featmesh.connector.errors import InputError

MAX_MESSAGES = 50


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def epoch_ms(iso: str) -> int:
    """Milliseconds since the epoch of an ISO 8601 time (Atlas's ``date`` values)."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def retired_classification(run_id: str) -> dict[str, Any]:
    """The classification a vanished entity gets with ``--keep-deleted`` (not propagated along
    lineage: a retired parent does not retire what derives from it)."""
    return {
        "typeName": "FEATMESH.RETIRED",
        "attributes": {"retiredAt": epoch_ms(utcnow()), "runId": run_id},
        "propagate": False,
    }


@dataclass
class CappedList:
    """A list that keeps the first ``cap`` items and counts the rest."""

    cap: int = MAX_MESSAGES
    items: list[str] = field(default_factory=list)
    dropped: int = 0

    def add(self, message: str) -> None:
        if len(self.items) < self.cap:
            self.items.append(message)
        else:
            self.dropped += 1

    def __len__(self) -> int:
        return len(self.items) + self.dropped

    def to_json(self) -> list[str]:
        if self.dropped:
            return [*self.items, f"... and {self.dropped} more"]
        return list(self.items)


@dataclass(frozen=True)
class InputProblem:
    """A file featmesh could not use (it does not parse, or breaks its format): the
    rest of its source is still read, and every report format shows it as a result."""

    path: str
    line: int | None
    message: str
    source: str = ""

    @classmethod
    def of(cls, err: InputError, source: str = "") -> InputProblem:
        match = re.match(r"\d+", err.where or "")
        return cls(
            path=err.path or source.partition(":")[2] or source,
            line=int(match.group()) if match else None,
            message=err.message,
            source=source,
        )

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "message": self.message, "source": self.source}


@dataclass
class SourceReport:
    """What reading one source produced."""

    uri: str
    kind: str
    status: str = "ok"  # ok | failed
    feature_sets: int = 0
    error: str | None = None
    counters: dict[str, int] = field(default_factory=dict)
    warnings: CappedList = field(default_factory=CappedList)
    problems: list[InputProblem] = field(default_factory=list)
    """Files of this source that could not be used; the rest of the source was read."""
    stores: list[str] = field(default_factory=list)
    """The qualifiedNames of the stores it gave (what to retire once it is no longer scanned)."""

    def warn(self, message: str) -> None:
        self.warnings.add(message)

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def fail(self, message: str) -> None:
        self.status = "failed"
        self.error = message

    def problem(self, err: InputError) -> None:
        """Record a file that could not be used; reading goes on with the others."""
        self.problems.append(InputProblem.of(err, self.uri))
        self.count("files_failed")

    def to_json(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "kind": self.kind,
            "status": self.status,
            "feature_sets": self.feature_sets,
            "error": self.error,
            "counters": dict(self.counters),
            "warnings": self.warnings.to_json(),
            "stores": list(self.stores),
            **({"problems": [p.to_json() for p in self.problems]} if self.problems else {}),
        }


@dataclass
class RunReport:
    command: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started_at: str = field(default_factory=utcnow)
    finished_at: str | None = None
    sources: list[SourceReport] = field(default_factory=list)
    warnings: CappedList = field(default_factory=CappedList)
    failures: CappedList = field(default_factory=CappedList)
    counters: dict[str, int] = field(default_factory=dict)

    def source(self, uri: str, kind: str) -> SourceReport:
        report = SourceReport(uri=uri, kind=kind)
        self.sources.append(report)
        return report

    def warn(self, message: str) -> None:
        self.warnings.add(message)

    def fail(self, message: str) -> None:
        self.failures.add(message)

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    @property
    def status(self) -> str:
        failed = sum(1 for s in self.sources if s.status == "failed")
        if self.sources and failed == len(self.sources):
            return "failed"
        if failed or len(self.failures) or any(s.problems for s in self.sources):
            return "partial"
        return "ok"

    def finish(self) -> None:
        self.finished_at = utcnow()

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "command": self.command,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "sources": [s.to_json() for s in self.sources],
            "counters": dict(self.counters),
            "warnings": self.warnings.to_json(),
            "failures": self.failures.to_json(),
        }


__all__ = ["CappedList", "InputProblem", "RunReport", "SourceReport", "utcnow"]

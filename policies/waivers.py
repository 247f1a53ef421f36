"""Waivers: accepted exceptions to rules, each with an owner, a reason and an expiry.

A waiver names a rule and a glob over target qualifiedNames; a failed result it
matches becomes ``skipped`` with reason ``waived`` and stays visible as suppressed. A
pattern matching a feature set also covers that set's features.

Waivers are findings themselves (see :data:`META_RULES`): an expired one (it no longer
waives anything), one running longer than the pack's ``waivers.max_days``, one that
matches no result (it can be removed), and a malformed one (an entry without an owner, a
reason or a target, or with keys a waiver does not have: it waives nothing). What cannot
be read at all (not a waivers file, a rule the packs in use do not have, an expiry that
is not a date) is an input error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from featmesh.connector.documents import load_schema, load_yaml, validate
from featmesh.connector.errors import InputError
from featmesh.connector.model import Origin
from featmesh.connector.patterns import glob
from featmesh.policies.packs import PolicySet
from featmesh.policies.types import Severity

EXPIRED = "featmesh.waiver-expired"
TOO_LONG = "featmesh.waiver-too-long"
UNUSED = "featmesh.waiver-unused"
MALFORMED = "featmesh.waiver-malformed"

META_RULES = {
    EXPIRED: "A waiver's expiry date has passed: it no longer waives anything.",
    TOO_LONG: "A waiver runs longer than the pack's waivers.max_days allows.",
    UNUSED: "A waiver matches no result of this run and can be removed.",
    MALFORMED: "A waiver entry lacks an owner, a reason or a target, or has unknown keys: it waives nothing.",
}
META_FIXES = {
    EXPIRED: "Fix the finding it waived, or renew the waiver with a new expires: date and a reason.",
    TOO_LONG: "Set expires: within waivers.max_days of today; renew it when that date comes.",
    UNUSED: "Remove the waiver from the waivers file (what it waived is fixed or gone).",
    MALFORMED: "Give the entry rule, target, owner, reason and expires, and no other keys.",
}


@cache
def waiver_schema() -> dict[str, Any]:
    return load_schema("featmesh.policies", "schema/waivers.schema.json")


@dataclass(frozen=True, kw_only=True)
class Waiver:
    rule: str
    target: str
    owner: str
    reason: str
    expires: dt.date
    origin: Origin
    _match: Any = field(repr=False, compare=False)

    def covers(self, target: str, feature_set: str) -> bool:
        return bool(self._match.match(target) or (target != feature_set and self._match.match(feature_set)))

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "target": self.target,
            "owner": self.owner,
            "reason": self.reason,
            "expires": self.expires.isoformat(),
            "origin": str(self.origin),
        }


@dataclass
class WaiverSet:
    waivers: list[Waiver] = field(default_factory=list)
    path: str | None = None
    malformed: list[tuple[Origin, str]] = field(default_factory=list)
    """Entries that waive nothing, with why."""

    def by_rule(self) -> dict[str, list[Waiver]]:
        found: dict[str, list[Waiver]] = {}
        for waiver in self.waivers:
            found.setdefault(waiver.rule, []).append(waiver)
        return found


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def make_waiver(
    *, rule: str, target: str, owner: str, reason: str, expires: dt.date, origin: Origin
) -> Waiver:
    return Waiver(
        rule=rule,
        target=target,
        owner=owner,
        reason=reason,
        expires=expires,
        origin=origin,
        _match=glob(target),
    )


def load_waivers(
    path: str | Path, policy: PolicySet, *, collect: list[InputError] | None = None
) -> WaiverSet:
    """Read and check a waivers file against the rules of ``policy``. An entry that
    cannot be used (an unknown rule, an expiry that is not a date) raises; with
    ``collect``, each such error is appended there and the entry left out."""
    doc = load_yaml(path)
    schema = waiver_schema()
    entry = schema["properties"]["waivers"]["items"]
    outline = {**schema, "properties": {**schema["properties"], "waivers": {"type": "array"}}}
    validate(doc, outline)
    waivers = []
    malformed: list[tuple[Origin, str]] = []
    for i, raw in enumerate(doc.data["waivers"]):
        where = ("waivers", i)
        origin = Origin(path=doc.path, line=doc.line_of(where), pointer=f"waivers[{i}]")
        problem = _entry_problem(raw, entry)
        if problem is not None:
            malformed.append((origin, f"waivers[{i}]: {problem}; it waives nothing"))
            continue
        if not policy.knows(raw["rule"]):
            close = [r.id for r in policy.rules if raw["rule"].split("-")[0] in r.id][:5]
            hint = f" (did you mean: {', '.join(close)})" if close else ""
            err = doc.error(
                f"unknown rule '{raw['rule']}': the packs in use ({policy.name}) have no such rule{hint}",
                (*where, "rule"),
            )
            if collect is None:
                raise err
            collect.append(err)
            continue
        expires = _as_date(raw["expires"])
        if expires is None:
            err = doc.error(f"not a date (YYYY-MM-DD): {raw['expires']!r}", (*where, "expires"))
            if collect is None:
                raise err
            collect.append(err)
            continue
        waivers.append(
            make_waiver(
                rule=raw["rule"],
                target=raw["target"],
                owner=raw["owner"],
                reason=raw["reason"],
                expires=expires,
                origin=origin,
            )
        )
    return WaiverSet(waivers=waivers, path=doc.path, malformed=malformed)


def _entry_problem(raw: Any, schema: Mapping[str, Any]) -> str | None:
    """What makes one waiver entry malformed, or None."""
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(schema).iter_errors(raw), key=lambda e: list(e.path))
    if not errors:
        return None
    error = errors[0]
    place = ".".join(str(p) for p in error.path)
    return f"{place}: {error.message}" if place else error.message


def meta_severity(rule: str, policy: PolicySet) -> Severity:
    return Severity.INFO if rule == UNUSED else policy.waiver_severity

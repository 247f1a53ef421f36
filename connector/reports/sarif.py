"""SARIF 2.1.0 output of ``featmesh check``, for GitHub code scanning and Azure DevOps.

Every rule of the packs is a ``reportingDescriptor`` (stable ``id`` = the rule id);
a result is an unwaived failure, or a waived one carrying a ``suppressions`` entry
(kind ``external``, the waiver's reason as justification). Each result names its
target by qualifiedName in ``logicalLocations`` and, where the definition's file and
line are known, in a ``physicalLocation``. ``partialFingerprints`` hash the rule and
the target, so a finding keeps its identity from run to run whatever its message.
Checks that raised are ``toolExecutionNotifications``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

from featmesh.connector import __version__
from featmesh.connector.reports.jsontext import dumps_indented
from featmesh.connector.runreport import InputProblem
from featmesh.policies.engine import Evaluation, Result
from featmesh.policies.packs import Rule
from featmesh.policies.types import Severity, SkipReason, State
from featmesh.policies.waivers import META_RULES

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "featmeshTarget/v1"
INPUT_ERROR = "featmesh.input-error"
INPUT_ERROR_TEXT = (
    "A file featmesh could not use: it does not parse or breaks its format (the rest was checked)."
)

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
}
# GitHub orders alerts by this property (0.1-10)
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.0",
    Severity.ERROR: "7.0",
    Severity.WARNING: "4.0",
    Severity.INFO: "1.0",
}


def fingerprint(rule: str, target: str) -> str:
    return hashlib.sha256(f"{rule}\x00{target}".encode()).hexdigest()


def _uri(path: str, root: Path) -> str:
    """A path relative to ``root`` where it lies below it, with forward slashes."""
    candidate = Path(path)
    try:
        relative = os.path.relpath(candidate.resolve(), root.resolve())
    except ValueError:  # another drive on Windows
        return PurePath(path).as_posix()
    if relative.startswith(".."):
        return PurePath(path).as_posix()
    return PurePath(relative).as_posix()


def _descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.replace(".", "-").split("-")),
        "shortDescription": {"text": rule.description},
        "fullDescription": {"text": rule.check.doc or rule.description},
        "help": {"text": rule.check.doc or rule.description},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "check": rule.check.id,
            "severity": rule.severity.value,
            "dimension": rule.dimension.value,
            "pack": rule.pack,
            "tags": ["featmesh", rule.dimension.value],
            "security-severity": SECURITY_SEVERITY[rule.severity],
        },
    }


def _meta_descriptor(rule_id: str, severity: Severity) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": "".join(p.capitalize() for p in rule_id.replace(".", "-").split("-")),
        "shortDescription": {"text": META_RULES[rule_id]},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {"severity": severity.value, "tags": ["featmesh", "waivers"]},
    }


def _result(r: Result, index: Mapping[str, int], root: Path) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [
            {
                "fullyQualifiedName": r.target,
                "name": r.feature or r.target.rsplit("/", 1)[-1],
                "kind": "member" if r.feature else "object",
            }
        ]
    }
    if r.origin is not None:
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(r.origin.path, root)}}
        if r.origin.line:
            physical["region"] = {"startLine": r.origin.line}
        location["physicalLocation"] = physical
    message = r.message or r.rule
    related = _related_locations(r, root)
    if related:
        message = _linked(message, r, related)
    out: dict[str, Any] = {
        "ruleId": r.rule,
        "ruleIndex": index[r.rule],
        "level": LEVEL[r.severity],
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(r.rule, r.target)},
        "properties": {"severity": r.severity.value, "target": r.target},
    }
    if related:
        out["relatedLocations"] = related
    if r.reason is SkipReason.WAIVED and r.waiver is not None:
        out["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": (f"{r.waiver.reason} (owner {r.waiver.owner}, expires {r.waiver.expires})"),
                "location": {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(r.waiver.origin.path, root)},
                        **({"region": {"startLine": r.waiver.origin.line}} if r.waiver.origin.line else {}),
                    }
                },
            }
        ]
    return out


def _related_locations(r: Result, root: Path) -> list[dict[str, Any]]:
    """The other definitions a mesh-wide finding involves (SARIF 2.1.0 3.27.22
    ``relatedLocations``): each named by qualifiedName, with its file and line where this
    run read it (a set known only from the catalog has no file here)."""
    found = []
    for number, other in enumerate(r.related, start=1):
        place: dict[str, Any] = {
            "id": number,
            "message": {"text": other.target},
            "logicalLocations": [
                {"fullyQualifiedName": other.target, "kind": "member" if "#" in other.target else "object"}
            ],
        }
        if other.origin is not None:
            physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(other.origin.path, root)}}
            if other.origin.line:
                physical["region"] = {"startLine": other.origin.line}
            place["physicalLocation"] = physical
        found.append(place)
    return found


def _linked(message: str, r: Result, related: list[dict[str, Any]]) -> str:
    """The message with each related definition it names as an embedded link to its
    related location (SARIF 2.1.0 3.11.6 ``[text](id)``; GitHub code scanning links a
    related location only from the message). Literal brackets are escaped, as 3.11.6 asks."""
    text = message.replace("[", "\\[").replace("]", "\\]")
    for other, place in zip(r.related, related, strict=True):
        if "physicalLocation" not in place:
            continue
        quoted = other.target.replace("[", "\\[").replace("]", "\\]")
        if quoted in text:
            text = text.replace(quoted, f"[{quoted}]({place['id']})", 1)
        else:
            text += f" (see [{quoted}]({place['id']}))"
    return text


def _problem_location(problem: InputProblem, root: Path) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(problem.path, root)}}
    if problem.line:
        physical["region"] = {"startLine": problem.line}
    return {"physicalLocation": physical}


def _problem_result(problem: InputProblem, index: Mapping[str, int], root: Path) -> dict[str, Any]:
    return {
        "ruleId": INPUT_ERROR,
        "ruleIndex": index[INPUT_ERROR],
        "level": "error",
        "message": {"text": problem.message},
        "locations": [_problem_location(problem, root)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(INPUT_ERROR, problem.path)},
        "properties": {"severity": "error", "source": problem.source},
    }


def sarif_document(
    evaluation: Evaluation,
    *,
    root: Path | None = None,
    problems: Sequence[InputProblem] = (),
    failures: Sequence[str] = (),
) -> dict[str, Any]:
    """The SARIF log. Each of ``problems`` (a file that could not be used) is both a
    result, so code scanning shows it at its line, and a tool execution notification;
    each of ``failures`` (a source or catalog that could not be read) a notification."""
    root = root or Path.cwd()
    descriptors = [_descriptor(rule) for rule in evaluation.policy.rules]
    for rule_id in sorted({r.rule for r in evaluation.extra}):
        severity = next(r.severity for r in evaluation.extra if r.rule == rule_id)
        descriptors.append(_meta_descriptor(rule_id, severity))
    if problems:
        descriptors.append(
            {
                "id": INPUT_ERROR,
                "name": "InputError",
                "shortDescription": {"text": INPUT_ERROR_TEXT},
                "defaultConfiguration": {"level": "error"},
                "properties": {"severity": "error", "tags": ["featmesh", "input"]},
            }
        )
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for r in evaluation.results(include_passed=False):
        if r.state is State.FAILED or r.reason is SkipReason.WAIVED:
            results.append(_result(r, index, root))
        elif r.state is State.ERROR:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": f"{r.target}: {r.message}"},
                    "associatedRule": {"id": r.rule, "index": index[r.rule]},
                }
            )
    for problem in problems:
        results.append(_problem_result(problem, index, root))
        notifications.append(
            {
                "level": "error",
                "message": {"text": f"{problem}"},
                "locations": [_problem_location(problem, root)],
                "associatedRule": {"id": INPUT_ERROR, "index": index[INPUT_ERROR]},
            }
        )
    for message in failures:
        notifications.append({"level": "error", "message": {"text": message}})
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "featmesh",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": descriptors,
                        "properties": {
                            "policyPack": evaluation.policy.name,
                            "policyPackVersion": evaluation.policy.version,
                        },
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not notifications,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render_sarif(
    evaluation: Evaluation,
    *,
    root: Path | None = None,
    problems: Sequence[InputProblem] = (),
    failures: Sequence[str] = (),
) -> str:
    document = sarif_document(evaluation, root=root, problems=problems, failures=failures)
    return dumps_indented(document) + "\n"

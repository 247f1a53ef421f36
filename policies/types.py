"""The vocabulary of the policy engine: severities, dimensions, result states, outcomes.

A check returns an :class:`Outcome`; the engine turns outcomes into results, each in
one of four states (see :class:`State`). A skipped result says why in its ``reason``.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from featmesh.connector.model import Origin


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2, Severity.CRITICAL: 3}
SEVERITIES = tuple(Severity)


class Dimension(str, Enum):
    OWNERSHIP = "ownership"
    DOCUMENTATION = "documentation"
    STANDARDIZATION = "standardization"
    QUALITY = "quality"
    FRESHNESS = "freshness"
    SECURITY = "security"
    LINEAGE = "lineage"


class State(str, Enum):
    """Passed; failed; skipped (waived, out of scope, not applicable); error (the
    check itself raised: the run goes on and reports it)."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


class SkipReason(str, Enum):
    WAIVED = "waived"
    OUT_OF_SCOPE = "out_of_scope"
    NOT_APPLICABLE = "not_applicable"


class Target(str, Enum):
    """What a check's results are about."""

    FEATURE_SET = "feature_set"
    FEATURE = "feature"
    CONSUMER = "consumer"
    """A model, endpoint or service reading feature sets: judged after the sets, on what
    the run knows of each set it reads (:func:`policies.consumers.evaluate_consumers`)."""


class Related(NamedTuple):
    """Another definition a finding is about (the other side of a mesh-wide conflict):
    its qualifiedName and, when this run read it, where it is written."""

    target: str
    origin: Origin | None = None


class Outcome(NamedTuple):
    """What a check says about one target: passed, failed or not applicable."""

    state: State
    message: str = ""
    related: tuple[Related, ...] = ()
    """The other places a failure involves (SARIF ``relatedLocations``)."""

    @property
    def passed(self) -> bool:
        return self.state is State.PASSED


PASS = Outcome(State.PASSED)


def fail(message: str, related: tuple[Related, ...] = ()) -> Outcome:
    """The target breaks the rule; ``message`` says how, naming what was found, and
    ``related`` the other definitions it conflicts with."""
    return Outcome(State.FAILED, message, related)


def not_applicable(reason: str) -> Outcome:
    """The rule cannot be judged on this target (no profile, not a derived set...)."""
    return Outcome(State.SKIPPED, reason)


__all__ = [
    "PASS",
    "SEVERITIES",
    "Dimension",
    "Outcome",
    "Related",
    "Severity",
    "SkipReason",
    "State",
    "Target",
    "fail",
    "not_applicable",
]

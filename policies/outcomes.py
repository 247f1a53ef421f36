"""Policy outcomes as catalog classifications, for ``featmesh scan`` to write.

One :class:`TargetOutcome` per feature set evaluated, and one per feature of a set
where a feature rule judged its features. The classification is
``FEATMESH.COMPLIANT`` when the target has no unwaived failure at error or critical
severity (for a set: neither on the set nor on any of its features), else
``FEATMESH.NON_COMPLIANT``. A check that raised does not make a target non-compliant
(it is reported as a check error). The attributes are those of the classification
defs in ``typedefs/classifications.json``; ``evaluatedAt`` is epoch milliseconds.

On re-scan the writer replaces a target's featmesh classifications with the one
given here (never adds to them). Every one is sent with ``"propagate": false``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from featmesh.policies.engine import Evaluation
from featmesh.policies.scoring import MeshScore, Score, feature_scores, summarize

COMPLIANT = "FEATMESH.COMPLIANT"
NON_COMPLIANT = "FEATMESH.NON_COMPLIANT"
CLASSIFICATIONS = (COMPLIANT, NON_COMPLIANT)

PROPAGATE = False
"""Atlas and Purview propagate a classification along lineage (Process inputs to outputs)
unless it says ``"propagate": false``: a parent's verdict would land on its pipeline and on
every derived set. Each featmesh verdict is about its own target only."""

FEATURE_SET_TYPE = "featmesh_feature_set"
FEATURE_TYPE = "featmesh_feature"


@dataclass(frozen=True, kw_only=True)
class TargetOutcome:
    qualified_name: str
    type_name: str
    classification: str
    attributes: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """As an Atlas classification on the target, never propagated (see ``PROPAGATE``)."""
        return {"typeName": self.classification, "attributes": dict(self.attributes), "propagate": PROPAGATE}


def _attributes(score: Score, evaluation: Evaluation, run_id: str, evaluated_ms: int) -> dict[str, Any]:
    counts = score.counts
    return {
        "score": score.score,
        "grade": score.grade,
        "policyPack": evaluation.policy.name,
        "policyPackVersion": evaluation.policy.version,
        "evaluatedAt": evaluated_ms,
        "criticalCount": counts.get("critical", 0),
        "errorCount": counts.get("error", 0),
        "warningCount": counts.get("warning", 0),
        "infoCount": counts.get("info", 0),
        "waivedCount": counts.get("waived", 0),
        "runId": run_id,
    }


def classification_outcomes(
    evaluation: Evaluation, *, run_id: str, summary: MeshScore | None = None
) -> Iterator[TargetOutcome]:
    """Outcomes for every feature set, then its features (streamed: a big mesh has
    hundreds of thousands of features)."""
    summary = summary or summarize(evaluation)
    evaluated_ms = int(evaluation.evaluated_at.timestamp() * 1000)
    scoring = evaluation.policy.scoring
    for fs in evaluation.feature_sets:
        qn = fs.qualified_name
        score = summary.sets[qn]
        yield TargetOutcome(
            qualified_name=qn,
            type_name=FEATURE_SET_TYPE,
            classification=COMPLIANT if score.compliant else NON_COMPLIANT,
            attributes=_attributes(score, evaluation, run_id, evaluated_ms),
        )
        for name, feature_score in feature_scores(evaluation.runs[qn], scoring).items():
            yield TargetOutcome(
                qualified_name=fs.feature_qn(name),
                type_name=FEATURE_TYPE,
                classification=COMPLIANT if feature_score.compliant else NON_COMPLIANT,
                attributes=_attributes(feature_score, evaluation, run_id, evaluated_ms),
            )

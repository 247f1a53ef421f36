"""JUnit XML output of ``featmesh check``, as Azure Pipelines' ``PublishTestResults@2``
(format JUnit) and GitHub's usual test-report actions read it.

``testsuites > testsuite`` (one per feature set, plus ``consumers`` and ``waivers``) ``> testcase`` (one
per rule on that set; classname is the set's qualifiedName, name the rule id). An
unwaived failure is ``<failure>`` (for a feature rule, listing the features), a check
that raised is ``<error>``, and a rule that was waived, out of scope or not applicable
is ``<skipped>`` with the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from featmesh.connector.runreport import InputProblem
from featmesh.connector.textsafe import xml_tree
from featmesh.policies.engine import Evaluation, Result, RuleRun
from featmesh.policies.scoring import MeshScore
from featmesh.policies.types import SkipReason, State


def _describe(results: list[Result]) -> str:
    return "\n".join(
        f"[{r.severity.value}] {r.feature + ': ' if r.feature else ''}{r.message}" for r in results
    )


def _case(suite: ET.Element, classname: str, name: str, run_results: list[Result], passed: int) -> str:
    """Add one testcase; returns its outcome (passed, failure, error, skipped)."""
    case = ET.SubElement(suite, "testcase", classname=classname, name=name, time="0")
    failed = [r for r in run_results if r.state is State.FAILED]
    errors = [r for r in run_results if r.state is State.ERROR]
    if failed:
        element = ET.SubElement(
            case, "failure", message=failed[0].message[:500], type=failed[0].severity.value
        )
        element.text = _describe(failed)
        return "failure"
    if errors:
        element = ET.SubElement(case, "error", message=errors[0].message[:500], type="check-error")
        element.text = _describe(errors)
        return "error"
    if not passed and run_results:
        reasons = sorted({(r.reason or SkipReason.NOT_APPLICABLE).value for r in run_results})
        first = run_results[0]
        ET.SubElement(case, "skipped", message=f"{', '.join(reasons)}: {first.message}"[:500])
        return "skipped"
    return "passed"


def _suite(parent: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(parent, "testsuite", name=name)


def _close(suite: ET.Element, outcomes: list[str]) -> None:
    """Set a suite's counts. ``testsuites`` has no ``skipped`` count in the JUnit schema
    CI servers validate with (Jenkins xUnit's ``junit-10.xsd``): only a suite carries it."""
    suite.set("tests", str(len(outcomes)))
    suite.set("failures", str(outcomes.count("failure")))
    suite.set("errors", str(outcomes.count("error")))
    if suite.tag == "testsuite":
        suite.set("skipped", str(outcomes.count("skipped")))
    suite.set("time", "0")


def _inputs(root: ET.Element, problems: Sequence[InputProblem], failures: Sequence[str]) -> list[str]:
    """The suite ``inputs``: a failed case per file that could not be used (classname the
    file, name ``featmesh.input-error``), an errored case per source or catalog failure."""
    suite = _suite(root, "inputs")
    outcomes = []
    for problem in problems:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=problem.path,
            name=f"featmesh.input-error {problem.path}" + (f":{problem.line}" if problem.line else ""),
            time="0",
        )
        element = ET.SubElement(case, "failure", message=problem.message[:500], type="input-error")
        element.text = str(problem)
        outcomes.append("failure")
    for number, message in enumerate(failures, start=1):
        case = ET.SubElement(suite, "testcase", classname="inputs", name=f"run failure {number}", time="0")
        element = ET.SubElement(case, "error", message=message[:500], type="run-incomplete")
        element.text = message
        outcomes.append("error")
    _close(suite, outcomes)
    return outcomes


def render_junit(
    evaluation: Evaluation,
    summary: MeshScore,
    *,
    problems: Sequence[InputProblem] = (),
    failures: Sequence[str] = (),
) -> str:
    """The JUnit report; ``problems`` and ``failures`` (what made the run incomplete)
    are the suite ``inputs``, first, so a report is written whatever could be read."""
    root = ET.Element("testsuites", name="featmesh check")
    totals: list[str] = _inputs(root, problems, failures) if (problems or failures) else []
    for fs in evaluation.feature_sets:
        qn = fs.qualified_name
        suite = _suite(root, qn)
        score = summary.sets[qn]
        props = ET.SubElement(suite, "properties")
        for key, value in (
            ("score", score.score),
            ("grade", score.grade),
            ("domain", summary.domain_of[qn]),
        ):
            ET.SubElement(props, "property", name=key, value=str(value))
        outcomes = []
        run: RuleRun
        for run in evaluation.runs[qn]:
            outcomes.append(_case(suite, qn, run.rule.id, run.results, run.passed))
        _close(suite, outcomes)
        totals.extend(outcomes)
    about_waivers = [r for r in evaluation.extra if not r.feature_set]
    about_consumers = [r for r in evaluation.extra if r.feature_set]
    if about_consumers:  # consumer rules: a case per consumer and set it reads
        suite = _suite(root, "consumers")
        outcomes = [_case(suite, r.target, f"{r.rule} {r.feature_set}", [r], 0) for r in about_consumers]
        _close(suite, outcomes)
        totals.extend(outcomes)
    if about_waivers:
        suite = _suite(root, "waivers")
        outcomes = [_case(suite, "waivers", f"{r.rule} {r.target}", [r], 0) for r in about_waivers]
        _close(suite, outcomes)
        totals.extend(outcomes)
    _close(root, totals)
    ET.indent(xml_tree(root))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

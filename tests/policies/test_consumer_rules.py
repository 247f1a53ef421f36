"""The consumer rule ``consumer-on-noncompliant-set``: a model, endpoint or service reading
a non-compliant or retired feature set, judged after the sets, in full and incremental
scans alike (an unchanged model gets the finding when its parent stops being compliant)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

from featmesh.connector.catalog.local import LocalCatalog
from featmesh.connector.model import Consumer, ConsumerRead, FeatureSetRef, FeatureStore
from featmesh.connector.scan.evaluate import retired_sets, store_consumers
from featmesh.policies import load_policy
from featmesh.policies.consumers import ConsumerAt, Standing, evaluate_consumers
from tests.conftest import SAMPLES, run

RULE = "consumer-on-noncompliant-set"
REF = FeatureSetRef(store_kind="manifest", store="risk-shared", name="customer_risk_360", version="1")


def _model(*refs: FeatureSetRef) -> Consumer:
    return Consumer(
        kind="model",
        name="fraud-model",
        version="7",
        owner="fraud-ml@contoso.com",
        reads=tuple(ConsumerRead(feature_set=r) for r in refs),
    )


def _judge(standing: dict[str, Standing]) -> list[tuple[str, str, str]]:
    placed = ConsumerAt(
        "featmesh://manifest/risk-models/consumer/model/fraud-model@7", "manifest", "risk-models", _model(REF)
    )
    judged = evaluate_consumers(load_policy(None), [placed], standing)
    return [(r.rule, r.feature_set, r.message) for r in judged.results]


def test_a_model_reading_a_non_compliant_set_is_named_with_its_owner() -> None:
    found = _judge(
        {
            REF.qualified_name: Standing(
                name="risk-shared/customer_risk_360@1", compliant=False, grade="D", score=58
            )
        }
    )
    assert found == [
        (
            RULE,
            REF.qualified_name,
            "model fraud-model@7 (fraud-ml@contoso.com) reads risk-shared/customer_risk_360@1, "
            "which is non-compliant (grade D, score 58)",
        )
    ]


def test_compliant_and_unknown_sets_pass_and_a_retired_one_fails() -> None:
    assert _judge({REF.qualified_name: Standing(name="x", compliant=True, grade="A")}) == []
    assert _judge({}) == []  # a set of a store not scanned: no standing, not judged
    (found,) = _judge({REF.qualified_name: Standing(name="x", retired="no longer defined")})
    assert found[2].endswith("reads x, which is retired (no longer defined)")


def test_a_scoped_consumer_rule_judges_only_the_consumers_its_scope_matches(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "apiVersion: featmesh/v1\nkind: PolicyPack\nname: risk-only\nversion: 1\n"
        f"extends: [mesh-baseline]\noverrides:\n  {RULE}: {{scope: {{domains: [risk]}}}}\n",
        encoding="utf-8",
    )
    standing = {REF.qualified_name: Standing(name="x", compliant=False, grade="F", score=40)}
    risk = replace(_model(REF), domain="risk")
    marketing = replace(_model(REF), name="churn", domain="marketing")
    placed = [
        ConsumerAt("featmesh://m/a", "manifest", "risk-models", risk),
        ConsumerAt("featmesh://m/b", "manifest", "marketing-models", marketing),
    ]
    judged = evaluate_consumers(load_policy([str(pack)]), placed, standing)
    assert [r.target for r in judged.results] == ["featmesh://m/a"]


def _copy(tmp_path: Path) -> tuple[Path, Path]:
    manifests, models = tmp_path / "manifests", tmp_path / "models"
    shutil.copytree(SAMPLES / "manifests", manifests)
    shutil.copytree(SAMPLES / "models", models)
    return manifests, models


def _scan(manifests: Path, models: Path, db: Path, *extra: str) -> dict[str, Any]:
    result = run("scan", f"manifest:{manifests}", f"manifest:{models}", "--catalog", f"local:{db}", *extra)
    assert result.exit_code == 0, result.stderr
    return _last_evaluation(db)


def _last_evaluation(db: Path) -> dict[str, Any]:
    catalog = LocalCatalog(db, read_only=True)
    try:
        return dict(catalog.runs(1)[0]["evaluation"])
    finally:
        catalog.close()


def _consumer_findings(record: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (f["target"].split("/consumer/", 1)[1], f["message"]) for f in record["findings"] if f["rule"] == RULE
    )


def test_an_unchanged_model_gets_the_finding_when_its_parent_becomes_non_compliant(tmp_path: Path) -> None:
    manifests, models = _copy(tmp_path)
    db = tmp_path / "c.db"
    assert _consumer_findings(_scan(manifests, models, db)) == []
    shared = manifests / "risk-shared.yaml"
    text = shared.read_text(encoding="utf-8")
    shared.write_text(
        text.replace("  - name: customer_risk_360\n", "  - name: customer_risk_360\n    owner: nobody\n")
    )
    record = _scan(manifests, models, db)
    # the models manifest did not change, and the set it reads was re-evaluated
    assert "featmesh://manifest/risk-shared/customer_risk_360@1" not in {
        s["feature_set"] for s in record["increment"]["skipped"]
    }
    found = _consumer_findings(record)
    assert [who for who, _ in found] == [
        "model/credit-limit-model@4",
        "model/fraud-model@7",
        "serving-endpoint/fraud-scoring-service@latest",
    ]
    assert "reads risk-shared/customer_risk_360@1, which is non-compliant (grade" in found[0][1]
    # a scan that keeps the set (nothing changed) still judges the model
    again = _scan(manifests, models, db)
    assert "featmesh://manifest/risk-shared/customer_risk_360@1" in {
        s["feature_set"] for s in again["increment"]["skipped"]
    }
    assert _consumer_findings(again) == found
    full = tmp_path / "full.db"
    shutil.copy(db, full)
    assert _consumer_findings(_scan(manifests, models, full, "--full")) == found


def test_a_model_reading_a_set_removed_from_its_store_is_flagged_until_it_stops(tmp_path: Path) -> None:
    manifests, models = _copy(tmp_path)
    db = tmp_path / "c.db"
    _scan(manifests, models, db)
    with sqlite3.connect(db) as conn:
        (defined_in,) = conn.execute("SELECT json_extract(record, '$.run_id') FROM runs").fetchone()
    payments = manifests / "payments.yaml"
    doc = payments.read_text(encoding="utf-8")
    start = doc.index("  - name: merchant_risk_signals")
    end = doc.find("\n  - name:", start + 1)
    payments.write_text(doc[:start] + (doc[end + 1 :] if end != -1 else ""), encoding="utf-8")
    record = _scan(manifests, models, db)
    assert "featmesh://manifest/payments/merchant_risk_signals@1" in record["retired"]
    found = _consumer_findings(record)
    assert [who for who, _ in found] == [
        "model/fraud-model@7",
        "serving-endpoint/fraud-scoring-service@latest",
    ]
    assert (
        "reads payments/merchant_risk_signals@1, which is retired (no longer defined in manifest/payments, "
        f"last defined in run {defined_in})"
    ) in found[0][1]
    assert _consumer_findings(_scan(manifests, models, db)) == found  # still read, still retired
    reads = models / "risk-models.yaml"
    reads.write_text(
        "\n".join(
            line
            for line in reads.read_text(encoding="utf-8").splitlines()
            if "merchant_risk_signals" not in line
        )
        + "\n",
        encoding="utf-8",
    )
    record = _scan(manifests, models, db)
    assert _consumer_findings(record) == []
    assert record["retired"] == {}  # no consumer reads it any more: the entry is dropped


def test_check_judges_the_models_on_the_sets_it_checks(tmp_path: Path) -> None:
    manifests, models = _copy(tmp_path)
    _non_compliant_shared(manifests)
    junit = tmp_path / "check.xml"
    result = run(
        "check",
        f"manifest:{manifests}",
        f"manifest:{models}",
        "--json",
        "--format",
        "junit",
        "-o",
        str(junit),
    )
    found = sorted(
        r["target"].split("/consumer/")[1] for r in json.loads(result.stdout)["results"] if r["rule"] == RULE
    )
    assert found == [
        "model/credit-limit-model@4",
        "model/fraud-model@7",
        "serving-endpoint/fraud-scoring-service@latest",
    ]
    suite = (
        junit.read_text(encoding="utf-8")
        .split('<testsuite name="consumers"', 1)[1]
        .split("</testsuite>", 1)[0]
    )
    assert suite.count("<failure") == 3 and "customer_risk_360@1" in suite


def test_a_model_teams_check_judges_its_models_on_the_published_sets(tmp_path: Path) -> None:
    """``check models/ --catalog``: the sets are not checked now, so their standing is the
    classification the scheduled scan gave them."""
    manifests, models = _copy(tmp_path)
    _non_compliant_shared(manifests)
    db = tmp_path / "c.db"
    _scan(manifests, models, db)
    result = run("check", f"manifest:{models}", "--catalog", f"local:{db}", "--json")
    messages = sorted(r["message"] for r in json.loads(result.stdout)["results"] if r["rule"] == RULE)
    assert messages == [
        "model credit-limit-model@4 (risk-modelling@contoso.com) reads risk-shared/customer_risk_360@1, "
        "which is non-compliant (grade F, score 40)",
        "model fraud-model@7 (fraud-ml@contoso.com) reads risk-shared/customer_risk_360@1, "
        "which is non-compliant (grade F, score 40)",
        "serving-endpoint fraud-scoring-service (fraud-ml@contoso.com) reads "
        "risk-shared/customer_risk_360@1, which is non-compliant (grade F, score 40)",
    ]


def _non_compliant_shared(manifests: Path) -> None:
    """Untagged PII in ``customer_risk_360``: a critical finding, grade F."""
    shared = manifests / "risk-shared.yaml"
    text = shared.read_text(encoding="utf-8")
    pii = (
        '      - {name: customer_email, dtype: string, description: "Contact address.", '
        "source_columns: [email]}\n"
    )
    anchor = "      - {name: has_mortgage,"
    shared.write_text(text.replace(anchor, pii + anchor, 1), encoding="utf-8")


def _scan_only(source: str, db: Path, *extra: str) -> dict[str, Any]:
    result = run("scan", source, "--catalog", f"local:{db}", *extra)
    assert result.exit_code in (0, 1), result.stderr
    return _last_evaluation(db)


def test_a_scan_of_the_models_alone_judges_them_on_the_sets_recorded_before(tmp_path: Path) -> None:
    """The sets' store is not read: their standing is what the scan that read them
    recorded, in an incremental scan and with ``--full`` alike."""
    manifests, models = _copy(tmp_path)
    _non_compliant_shared(manifests)
    db = tmp_path / "c.db"
    _scan_only(f"manifest:{manifests}", db)  # the sets alone: nobody reads them in this run
    shutil.copy(db, tmp_path / "full.db")
    found = _consumer_findings(_scan_only(f"manifest:{models}", db))
    assert [who for who, _ in found] == [
        "model/credit-limit-model@4",
        "model/fraud-model@7",
        "serving-endpoint/fraud-scoring-service@latest",
    ]
    assert found[0][1] == (
        "model credit-limit-model@4 (risk-modelling@contoso.com) reads risk-shared/customer_risk_360@1, "
        "which is non-compliant (grade F, score 40)"
    )
    assert _consumer_findings(_scan_only(f"manifest:{models}", tmp_path / "full.db", "--full")) == found
    assert _consumer_findings(_scan_only(f"manifest:{models}", db)) == found  # the history goes back


def test_a_set_removed_while_its_readers_were_not_scanned_is_retired_for_them(tmp_path: Path) -> None:
    """The payments store drops a set in a scan that does not read the models: nobody
    read it in that run, so its record keeps no retired entry; the models' next scan
    finds from the history that the store no longer defines it."""
    manifests, models = _copy(tmp_path)
    db = tmp_path / "c.db"
    _scan(manifests, models, db)
    payments = manifests / "payments.yaml"
    doc = payments.read_text(encoding="utf-8")
    start = doc.index("  - name: merchant_risk_signals")
    end = doc.find("\n  - name:", start + 1)
    payments.write_text(doc[:start] + (doc[end + 1 :] if end != -1 else ""), encoding="utf-8")
    record = _scan_only(f"manifest:{manifests}", db)
    assert record["retired"] == {}
    found = _consumer_findings(_scan_only(f"manifest:{models}", db))
    assert [who for who, _ in found] == [
        "model/fraud-model@7",
        "serving-endpoint/fraud-scoring-service@latest",
    ]
    assert (
        "reads payments/merchant_risk_signals@1, which is retired (not defined in manifest/payments"
        in (found[0][1])
    )


def test_a_retired_entry_keeps_the_readers_of_stores_not_read_and_goes_with_the_last() -> None:
    """``read_by``: the stores read now say who of theirs reads a retired set; what was
    recorded of the other stores' readers is kept; an entry nobody reads is dropped, and
    so is one whose set is defined again."""
    qn = REF.qualified_name
    last = {
        "run_id": "r1",
        "evaluation": {
            "retired": {
                qn: {"name": "customer_risk_360", "version": "1", "store": "manifest/risk-shared",
                     "since": "r0", "read_by": ["manifest/lab", "manifest/risk-models"]},
            },
        },
    }  # fmt: skip
    models = FeatureStore(kind="manifest", name="risk-models", uri="manifest:models")
    reading = replace(models, consumers=(_model(REF),))
    assert retired_sets({}, [reading], last)[qn]["read_by"] == ["manifest/lab", "manifest/risk-models"]
    assert retired_sets({}, [models], last)[qn]["read_by"] == ["manifest/lab"]
    lab = FeatureStore(kind="manifest", name="lab", uri="manifest:lab")
    assert retired_sets({}, [models, lab], last) == {}  # neither reads it now
    assert retired_sets({qn: {}}, [reading], last) == {}  # defined again


def test_a_consumer_without_an_owner_is_named_with_its_stores_owner() -> None:
    store = FeatureStore(
        kind="feast", name="fraud", uri="feast:repo", owner="fraud-ml@contoso.com",
        consumers=(replace(_model(REF), owner=None),),
    )  # fmt: skip
    (placed,) = store_consumers([store])
    judged = evaluate_consumers(
        load_policy(None), [placed], {REF.qualified_name: Standing(name="x", compliant=False, grade="F")}
    )
    assert [r.message for r in judged.results] == [
        "model fraud-model@7 (fraud-ml@contoso.com) reads x, which is non-compliant (grade F)"
    ]


def test_a_set_read_twice_is_one_finding() -> None:
    """A Feast feature service may project the same view twice (``with_name``)."""
    twice = _model(REF, REF)
    placed = ConsumerAt("featmesh://m/a", "manifest", "risk-models", twice)
    standing = {REF.qualified_name: Standing(name="x", compliant=False, grade="F")}
    assert len(evaluate_consumers(load_policy(None), [placed], standing).results) == 1

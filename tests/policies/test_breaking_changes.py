"""Breaking changes (``check --catalog``): a changed published set against what reads it."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from featmesh.connector.model import Consumer, ConsumerRead, KeyColumn
from featmesh.policies import evaluate
from tests.conftest import SAMPLES, run, run_json
from tests.policies.helpers import feature, good_set


def _state(evaluation, qn_part: str = "") -> tuple[str, str]:
    (result,) = [r for r in evaluation.results() if qn_part in r.target]
    return result.state.value, result.message


def _model(fs, *features: str, name: str = "credit", owner: str = "risk@contoso.com") -> Consumer:
    return Consumer(
        kind="model",
        name=name,
        version="4",
        owner=owner,
        reads=(ConsumerRead(feature_set=fs.ref, features=features),),
    )


def test_a_removed_feature_read_by_a_model_names_the_model_and_its_owner(one_rule) -> None:
    before = good_set(features=(feature("a"), feature("b")))
    after = replace(before, features=(feature("a"),))
    ev = evaluate(one_rule("breaking_change"), [after], previous=[before], consumers=[_model(before, "b")])
    state, message = _state(ev)
    assert state == "failed"
    assert message == "removes feature b, read by model credit@4 (risk@contoso.com)"


def test_the_same_change_passes_when_nothing_reads_it(one_rule) -> None:
    before = good_set(features=(feature("a"), feature("b")))
    after = replace(before, features=(feature("a"), feature("c")))
    ev = evaluate(one_rule("breaking_change"), [after], previous=[before], consumers=[_model(before, "a")])
    assert _state(ev)[0] == "passed"


def test_dtype_and_join_key_changes(one_rule) -> None:
    before = good_set(features=(feature("a"),), join_keys=(KeyColumn(name="customer_id", dtype="string"),))
    after = replace(
        before, features=(feature("a", "float64"),), join_keys=(KeyColumn(name="customer_id", dtype="int64"),)
    )
    ev = evaluate(one_rule("breaking_change"), [after], previous=[before], consumers=[_model(before)])
    found = sorted((r.target.rsplit("/", 1)[-1], r.state.value, r.message) for r in ev.results())
    qn = after.qualified_name.rsplit("/", 1)[-1]
    assert found == [
        (
            qn,
            "failed",
            "changes the join keys from customer_id:string to customer_id:int64, "
            "which model credit@4 (risk@contoso.com) join on",
        ),
        (
            f"{qn}#a",
            "failed",
            "changes the dtype of a from int64 to float64, read by model credit@4 (risk@contoso.com)",
        ),
    ]
    assert [r.feature for r in ev.findings() if "#" in r.target] == ["a"]


def test_one_finding_per_break_each_naming_its_own_readers(one_rule) -> None:
    before = good_set(features=(feature("a"), feature("b"), feature("c")))
    after = replace(before, features=(feature("c"),))
    models = [_model(before, "a", name="m1", owner="one@contoso.com"), _model(before, "b", name="m2")]
    ev = evaluate(one_rule("breaking_change"), [after], previous=[before], consumers=models)
    messages = {r.feature: r.message for r in ev.findings()}
    assert messages == {
        "a": "removes feature a, read by model m1@4 (one@contoso.com)",
        "b": "removes feature b, read by model m2@4 (risk@contoso.com)",
    }


def test_a_derived_set_reading_the_removed_feature_is_named(one_rule) -> None:
    before = good_set(features=(feature("a"), feature("b")))
    child = good_set(
        name="child",
        owner="kid@contoso.com",
        derived_from=(before.ref,),
        features=(feature("x", source_columns=("b",)),),
    )
    after = replace(before, features=(feature("a"),))
    ev = evaluate(one_rule("breaking_change"), [after], published=[child], previous=[before])
    assert _state(ev, before.name)[1] == "removes feature b, read by derived set child@1 (kid@contoso.com)"


def test_a_lowered_version_used_downstream(one_rule) -> None:
    published = good_set(version="3")
    local = good_set(version="2")
    ev = evaluate(one_rule("breaking_change"), [local], previous=[published], consumers=[_model(published)])
    state, message = _state(ev)
    assert state == "failed" and message.startswith(
        "version 2 is lower than the published 3, which model credit@4"
    )


def test_without_a_catalog_it_is_not_applicable(one_rule) -> None:
    ev = evaluate(one_rule("breaking_change"), [good_set()])
    assert _state(ev)[0] == "skipped"


def test_a_model_on_an_old_version(one_rule) -> None:
    old, new = good_set(version="1"), good_set(version="2")
    ev = evaluate(one_rule("consumer_on_old_version"), [old, new], consumers=[_model(old, name="fraud")])
    assert (
        _state(ev, "@1")[0] == "failed"
        and "model fraud@4 (risk@contoso.com) read this old version" in _state(ev, "@1")[1]
    )
    assert _state(ev, "@2")[0] == "passed"


def test_check_with_a_catalog_reports_the_break_and_exits_1(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    first = run(
        "scan",
        f"manifest:{SAMPLES / 'manifests'}",
        f"manifest:{SAMPLES / 'models'}",
        "--catalog",
        f"local:{db}",
    )
    assert first.exit_code == 0, first.stderr
    changed = tmp_path / "payments"
    changed.mkdir()
    text = (SAMPLES / "manifests" / "payments.yaml").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if "name: txn_count_7d," not in line]
    (changed / "payments.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result, summary = run_json("check", f"manifest:{changed}", "--catalog", f"local:{db}", "--json")
    assert result.exit_code == 1, result.stderr
    (found,) = [r for r in summary["results"] if r["rule"] == "breaking-change" and r["state"] == "failed"]
    assert found["target"] == "featmesh://manifest/payments/transaction_aggregates@2#txn_count_7d"
    assert (
        found["message"]
        == "removes feature txn_count_7d, read by model credit-limit-model@4 (risk-modelling@contoso.com)"
    )
    unchanged, _ = run_json(
        "check", f"manifest:{SAMPLES / 'manifests'}", "--catalog", f"local:{db}", "--json"
    )
    assert json.loads(unchanged.stdout)["results"]
    assert not [
        r
        for r in json.loads(unchanged.stdout)["results"]
        if r["rule"] == "breaking-change" and r["state"] == "failed"
    ]
    shutil.rmtree(changed)

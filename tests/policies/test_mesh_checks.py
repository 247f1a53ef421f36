"""Mesh-wide checks, fed extra (published) feature sets directly."""

from __future__ import annotations

from dataclasses import replace

from featmesh.connector.model import FeatureSetRef, KeyColumn, SourceRef
from featmesh.policies import evaluate
from featmesh.policies.context import PARENT_HASHES
from tests.conftest import run_json
from tests.policies.helpers import feature, good_set


def states(evaluation):
    return {(r.target.split("/")[-1], r.rule): (r.state.value, r.message) for r in evaluation.results()}


def test_same_name_different_type_in_two_domains(one_rule) -> None:
    policy = one_rule("feature_meaning_conflict")
    mine = good_set(features=(feature("customer_age", "int32"), feature("txn_count", "int64")))
    theirs = good_set(
        name="customer_profile",
        store="risk",
        domain="risk",
        features=(feature("customer_age", "string"),),
    )
    ev = evaluate(policy, [mine], published=[theirs])
    got = states(ev)
    state, message = got[("card_txn_7d@1#customer_age", "r")]
    assert state == "failed"
    assert "'int32' here but 'string' in domain 'risk'" in message
    assert "featmesh://manifest/risk/customer_profile@1#customer_age" in message
    assert got[("card_txn_7d@1#txn_count", "r")][0] == "passed"
    # only local sets are reported on
    assert not any("customer_profile" in k[0] for k in got)


def test_same_domain_or_same_type_is_no_conflict(one_rule) -> None:
    policy = one_rule("feature_meaning_conflict")
    a = good_set(features=(feature("customer_age", "int32"),))
    b = good_set(name="other", features=(feature("customer_age", "string"),))  # same domain
    c = good_set(name="third", store="risk", domain="risk", features=(feature("customer_age", "int32"),))
    ev = evaluate(policy, [a, b, c])
    got = states(ev)
    assert got[("card_txn_7d@1#customer_age", "r")][0] == "passed"
    assert got[("third@1#customer_age", "r")][0] == "failed"  # b is string, in another domain


def test_meaning_tags_must_agree(one_rule) -> None:
    policy = one_rule("feature_meaning_conflict")
    a = good_set(features=(feature("balance", "float64", tags={"unit": "eur"}),))
    b = good_set(
        name="b",
        store="risk",
        domain="risk",
        features=(feature("balance", "float64", tags={"unit": "usd"}),),
    )
    ev = evaluate(policy, [a], published=[b])
    state, message = states(ev)[("card_txn_7d@1#balance", "r")]
    assert state == "failed" and "unit is 'eur' here but 'usd'" in message


def test_duplicate_engineering_across_domains(one_rule) -> None:
    policy = one_rule("duplicate_engineering")
    src = (SourceRef(kind="delta", uri="main.raw.card_txn/"),)
    mine = good_set(
        sources=src,
        features=(
            feature(
                "spend_7d",
                "float64",
                source_columns=("amount",),
                transformation="sum(amount) over 7d",
            ),
            feature("amount", "float64", source_columns=("amount",)),  # passthrough: not flagged
        ),
    )
    theirs = good_set(
        name="risk_spend",
        store="risk",
        domain="risk",
        sources=(SourceRef(kind="delta", uri="main.raw.card_txn"),),
        features=(
            feature(
                "total_7d",
                "float64",
                source_columns=("amount",),
                transformation="SUM(amount)  over 7d",
            ),
        ),
    )
    ev = evaluate(policy, [mine], published=[theirs])
    got = states(ev)
    state, message = got[("card_txn_7d@1#spend_7d", "r")]
    assert state == "failed" and "'risk'" in message and "risk_spend@1#total_7d" in message
    assert got[("card_txn_7d@1#amount", "r")][0] == "passed"
    flagged = evaluate(
        one_rule("duplicate_engineering", {"include_passthrough": True}),
        [mine],
        published=[replace(theirs, features=(feature("amount", "float64", source_columns=("amount",)),))],
    )
    assert states(flagged)[("card_txn_7d@1#amount", "r")][0] == "failed"


def test_stale_derived_set(one_rule) -> None:
    policy = one_rule("stale_derived")
    parent = good_set(name="card_txn")
    ref = FeatureSetRef(store_kind="manifest", store="payments", name="card_txn", version="1")
    fresh = good_set(
        name="risk_view",
        derived_from=(ref,),
        extra={PARENT_HASHES: {parent.qualified_name: parent.content_hash}},
    )
    changed_parent = replace(parent, features=(*parent.features, feature("new_one")))
    not_recorded = good_set(name="no_hashes", derived_from=(ref,))
    ev = evaluate(policy, [fresh, not_recorded, good_set(name="plain")], published=[parent])
    got = states(ev)
    assert got[("risk_view@1", "r")][0] == "passed"
    assert got[("no_hashes@1", "r")] == ("skipped", "the source records no parent hashes")
    assert got[("plain@1", "r")][0] == "skipped"
    stale = evaluate(policy, [fresh], published=[changed_parent])
    state, message = states(stale)[("risk_view@1", "r")]
    assert state == "failed" and "changed after this set was built" in message


def test_local_set_replaces_its_published_copy(one_rule) -> None:
    policy = one_rule("feature_meaning_conflict")
    old = good_set(store="risk", domain="risk", features=(feature("x", "string"),))
    new = good_set(store="risk", domain="risk", features=(feature("x", "int64"),))
    other = good_set(name="o", features=(feature("x", "int64"),))
    ev = evaluate(policy, [new, other], published=[old])
    assert all(r.state.value == "passed" for r in ev.results())


def test_source_resolves_through_a_published_parent(one_rule) -> None:
    policy = one_rule("source_resolves")
    parent = good_set(name="card_txn", store="core", domain="core")
    ref = FeatureSetRef(store_kind="manifest", store="core", name="card_txn", version="1")
    child = good_set(name="child", sources=(), derived_from=(ref,))
    assert states(evaluate(policy, [child], published=[parent]))[("child@1", "r")][0] == "passed"
    assert states(evaluate(policy, [child]))[("child@1", "r")][0] == "failed"


def test_duplicate_engineering_sees_the_source_a_feature_reads(one_rule) -> None:
    """A set joining two sources engineers a column of one of them: compared by that source."""
    policy = one_rule("duplicate_engineering")
    spend = feature("spend_30d", "float64", source_columns=("amount",), transformation="sum(amount) over 30d")
    mine = good_set(
        sources=(SourceRef(kind="delta", uri="main.raw.card_txn", columns=("amount",)),), features=(spend,)
    )
    theirs = good_set(
        name="web_behaviour",
        store="marketing",
        domain="marketing",
        sources=(
            SourceRef(kind="delta", uri="main.web.sessions", columns=("page_views",)),
            SourceRef(kind="delta", uri="main.raw.card_txn", columns=("amount",)),
        ),
        features=(
            feature(
                "card_spend_30d", "float64", source_columns=("amount",), transformation="SUM(amount) over 30d"
            ),
        ),
    )
    state, message = states(evaluate(policy, [mine], published=[theirs]))[("card_txn_7d@1#spend_30d", "r")]
    assert state == "failed" and "web_behaviour@1#card_spend_30d" in message


def _keyed(name: str, dtype: str, **kw):
    return good_set(name=name, join_keys=(KeyColumn(name="customer_id", dtype=dtype),), **kw)


def test_a_join_key_typed_two_ways_in_one_store_fails_both_sets(one_rule) -> None:
    policy = one_rule("join_key_type_consistent")
    a, b, c = _keyed("a", "int64"), _keyed("b", "string"), _keyed("c", "int64")
    got = states(evaluate(policy, [a, b, c]))
    state, message = got[("a@1", "r")]
    assert state == "failed"
    assert message == (
        "join key 'customer_id' is 'int64' here but 'string' in "
        "featmesh://manifest/payments/b@1 of the same store"
    )
    state, message = got[("b@1", "r")]
    assert state == "failed" and "'int64' in featmesh://manifest/payments/a@1" in message
    assert got[("c@1", "r")][0] == "failed"


def test_one_type_per_key_passes_and_untyped_keys_are_not_compared(one_rule) -> None:
    policy = one_rule("join_key_type_consistent")
    sets = [_keyed("a", "int64"), _keyed("b", "int64"), _keyed("c", "unknown")]
    other_domain = _keyed("d", "string", store="risk", domain="risk")
    got = states(evaluate(policy, sets, published=[other_domain]))
    assert {got[(n, "r")][0] for n in ("a@1", "b@1", "c@1")} == {"passed"}


def test_a_published_store_of_the_same_domain_is_compared(one_rule) -> None:
    """Another store of the domain, known from the catalog (``check --catalog``), types
    the key differently: flagged, naming that store; ``across_stores: false`` does not."""
    policy = one_rule("join_key_type_consistent")
    mine = _keyed("a", "string")
    theirs = _keyed("b", "int64", store="cards")  # domain payments too
    state, message = states(evaluate(policy, [mine], published=[theirs]))[("a@1", "r")]
    assert state == "failed"
    assert "'int64' in featmesh://manifest/cards/b@1 of store 'manifest/cards', domain 'payments'" in message
    assert not any("cards" in k[0] for k in states(evaluate(policy, [mine], published=[theirs])))
    narrow = one_rule("join_key_type_consistent", params={"across_stores": False})
    assert states(evaluate(narrow, [mine], published=[theirs]))[("a@1", "r")][0] == "passed"


KEYED_TWO_WAYS = """\
apiVersion: featmesh/v1
store:
  name: loans
  domain: credit
  owner: credit-ml@contoso.com
entities:
  - name: bureau
    join_keys:
      - {name: sk_id_bureau, dtype: int64}
  - name: bureau_stream
    join_keys:
      - {name: sk_id_bureau, dtype: string}
feature_sets:
  - name: bureau_balance
    version: "1"
    description: Monthly bureau balance per credit line, from the bureau extract.
    entities: [bureau]
    features:
      - {name: months_balance, dtype: int64}
  - name: bureau_balance_stream
    version: "1"
    description: Bureau balance changes as they arrive on the stream.
    entities:
      - bureau_stream
    features:
      - {name: status, dtype: string}
"""


def test_the_finding_is_at_the_set_s_entities_line(tmp_path) -> None:
    """In a manifest the key is declared where the set names its entities: the finding
    (SARIF region) points there, for each of the two sets."""
    (tmp_path / "store.yaml").write_text(KEYED_TWO_WAYS)
    _, doc = run_json("check", f"manifest:{tmp_path}", "--format", "sarif")
    found = {
        r["message"]["text"].split("' is '")[1].split("'")[0]: r["locations"][0]["physicalLocation"]["region"]
        for r in doc["runs"][0]["results"]
        if r["ruleId"] == "join-key-type-consistent"
    }
    lines = KEYED_TWO_WAYS.splitlines()
    assert lines[found["int64"]["startLine"] - 1] == "    entities: [bureau]"
    assert lines[found["string"]["startLine"] - 1] == "    entities:"

from __future__ import annotations

import datetime as dt

import pytest

from featmesh.connector.errors import InputError
from featmesh.policies import SkipReason, State, evaluate, findings_block, load_policy, load_waivers
from tests.policies.helpers import feature, good_set

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc)


@pytest.fixture
def waivers_file(tmp_path):
    def make(entries: str):
        path = tmp_path / "waivers.yaml"
        path.write_text("apiVersion: featmesh/v1\nkind: Waivers\nwaivers:\n" + entries)
        return path

    return make


def test_waived_failures_stay_visible_and_expired_waivers_are_findings(waivers_file) -> None:
    policy = load_policy()
    path = waivers_file(
        "  - rule: version-present\n"
        "    target: 'featmesh://manifest/payments/card_txn_7d@*'\n"
        "    owner: anna@contoso.com\n"
        "    reason: Versions arrive with the Feast migration in Q3.\n"
        "    expires: 2026-09-30\n"
        "  - rule: pii-tagged-by-name\n"
        "    target: 'featmesh://manifest/payments/*'\n"
        "    owner: anna@contoso.com\n"
        "    reason: Hashed before it lands; tag pending.\n"
        "    expires: 2026-05-01\n"
        "  - rule: owner-present\n"
        "    target: 'featmesh://nothing/*'\n"
        "    owner: anna@contoso.com\n"
        "    reason: An old exception nobody removed.\n"
        "    expires: '2026-12-01'\n"
    )
    waivers = load_waivers(path, policy)
    fs = good_set(version=None, features=(feature("customer_email"),))
    ev = evaluate(policy, [fs], waivers=waivers, now=NOW)
    by_rule = {r.rule: r for r in ev.results(include_passed=False)}
    waived = by_rule["version-present"]
    assert waived.state is State.SKIPPED and waived.reason is SkipReason.WAIVED and waived.suppressed
    assert "waived by anna@contoso.com until 2026-09-30" in waived.message
    pii = by_rule["pii-tagged-by-name"]
    assert pii.state is State.FAILED and "expired on 2026-05-01" in pii.message
    expired = by_rule["featmesh.waiver-expired"]
    assert expired.state is State.FAILED and expired.target == f"{path}:9"
    unused = by_rule["featmesh.waiver-unused"]
    assert unused.severity.value == "info" and "featmesh://nothing/*" in unused.message
    counts = findings_block(ev)
    assert counts["waived"] == 1 and counts["critical"] == 1 and counts["warning"] == 1


def test_set_pattern_covers_its_features_and_too_long(waivers_file) -> None:
    policy = load_policy()
    path = waivers_file(
        "  - {rule: feature-naming, target: 'featmesh://manifest/payments/card_txn_7d@1',"
        " owner: a@b.co,"
        " reason: Legacy names kept for model v3., expires: 2029-01-01}\n"
    )
    fs = good_set(features=(feature("TxnCount"), feature("AmountSum")))
    ev = evaluate(policy, [fs], waivers=load_waivers(path, policy), now=NOW)
    naming = [r for r in ev.results(include_passed=False) if r.rule == "feature-naming"]
    assert [r.reason for r in naming] == [SkipReason.WAIVED, SkipReason.WAIVED]
    assert [r.rule for r in ev.extra] == ["featmesh.waiver-too-long"]


GOOD = "{rule: owner-present, target: y, owner: a, reason: good reason, expires: 2026-01-01}"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rule": "owner-presnt"}, "unknown rule 'owner-presnt'"),
        ({"expires": "next year"}, "not a date (YYYY-MM-DD): 'next year'"),
        ({"expires": "2026-02-30"}, "invalid value '2026-02-30': day is out of range for month"),
    ],
)
def test_bad_waivers_name_file_and_line(waivers_file, changes: dict, message: str) -> None:
    entry = GOOD
    for key, value in changes.items():
        old = next(part for part in GOOD.strip("{}").split(", ") if part.startswith(f"{key}:"))
        entry = entry.replace(old, f"{key}: {value}" if value else "").replace(", ,", ",")
    path = waivers_file(f"  - {GOOD}\n  - {entry}\n")
    with pytest.raises(InputError) as info:
        load_waivers(path, load_policy())
    assert info.value.path == str(path) and info.value.where == "5"
    assert message in info.value.message


def test_a_malformed_waiver_is_a_finding_and_waives_nothing(waivers_file) -> None:
    policy = load_policy()
    target = "featmesh://manifest/payments/card_txn_7d@1"
    path = waivers_file(
        f"  - {{rule: feature-naming, target: '{target}',"
        " reason: Legacy names kept for model v3., expires: 2029-01-01}\n"
    )
    waivers = load_waivers(path, policy)
    assert waivers.waivers == [] and len(waivers.malformed) == 1
    fs = good_set(features=(feature("TxnCount"),))
    ev = evaluate(policy, [fs], waivers=waivers, now=NOW)
    naming = [r for r in ev.results(include_passed=False) if r.rule == "feature-naming"]
    assert [r.state.value for r in naming] == ["failed"]  # not waived
    (meta,) = [r for r in ev.extra if r.rule == "featmesh.waiver-malformed"]
    assert meta.target == f"{path}:4" and "'owner' is a required property" in meta.message

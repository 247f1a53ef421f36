"""Why a set is non-compliant, next to its grade, and each failed rule's explanation and fix,
in the reports of a real scan (manifest -> local catalog -> ``featmesh report``)."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest

from featmesh.connector.reports.governance import build_report
from tests.conftest import run
from tests.reports.records import NOW, feature_set, finding, record

MANIFEST = """\
apiVersion: featmesh/v1
store: {name: marketing, domain: marketing}
entities:
  - {name: customer, join_keys: [{name: customer_id, dtype: string}]}
feature_sets:
  - name: campaign_response
    version: 1
    description: Responses of each customer to the marketing campaigns of the last 90 days.
    entities: [customer]
    timestamp_field: event_ts
    ttl: 2d
    sources:
      - {kind: delta, uri: main.marketing.campaign_events, columns: [customer_id, responded]}
    features:
      - {name: responses_90d, dtype: int64, description: "Campaign responses in 90 days."}
  - name: campaign_reach
    version: 1
    owner: marketing-ml@contoso.com
    description: How many campaigns reached each customer over the last 90 days.
    entities: [customer]
    timestamp_field: event_ts
    ttl: 2d
    sources:
      - {kind: delta, uri: main.marketing.campaign_events, columns: [customer_id]}
    features:
      - {name: reached_90d, dtype: int64, description: "Campaigns that reached the customer."}
"""


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("why")
    (folder / "marketing.yaml").write_text(MANIFEST)
    catalog = f"local:{folder / 'c.db'}"
    result = run("scan", str(folder / "marketing.yaml"), "--catalog", catalog)
    assert result.exit_code == 0, result.stderr
    return catalog


def _report(catalog: str, fmt: str, tmp_path: Path) -> str:
    out = tmp_path / f"report.{fmt}"
    result = run("report", "--catalog", catalog, "--format", fmt, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out.read_text(encoding="utf-8")


def test_the_html_report_says_why_next_to_the_grade(scanned: str, tmp_path: Path) -> None:
    page = _report(scanned, "html", tmp_path)
    card = page.split('<span class="set-title">campaign_response')[1].split("</summary>")[0]
    assert '<span class="sev sev-error">non-compliant</span>' in card
    assert '<span class="why">1 unwaived error (owner-present)</span>' in card
    reach = page.split('<span class="set-title">campaign_reach')[1].split("</summary>")[0]
    assert "non-compliant" not in reach and 'class="why"' not in reach


def test_each_failed_rule_links_to_its_embedded_explanation_and_fix(scanned: str, tmp_path: Path) -> None:
    page = _report(scanned, "html", tmp_path)
    links = set(re.findall(r'<a class="mono rule-link" href="#(rule-\d+)"[^>]*>owner-present</a>', page))
    assert len(links) == 1  # the same anchor from the rules table and the set's findings
    anchor = links.pop()
    article = page.split(f'<article class="rule-explained" id="{anchor}">')[1].split("</article>")[0]
    explained = run("policies", "explain", "owner-present").stdout.rstrip("\n")
    pre = re.search(r'<pre class="explain">(.*?)</pre>', article, re.S)
    assert pre is not None and html_lib.unescape(pre.group(1)) == explained  # what the CLI prints
    assert "<b>How to fix:</b> add ``owner:`` to the set" in article
    rules_table = page.split('id="rules-table"')[1].split("</table>")[0]
    assert "add ``owner:`` to the set, or once for every set to the store block" in rules_table
    # self-contained: nothing fetched from anywhere
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)


def test_the_markdown_report_says_why_and_how_to_fix(scanned: str, tmp_path: Path) -> None:
    text = _report(scanned, "markdown", tmp_path)
    worst = text.split("### Worst feature sets")[1].split("###")[0]
    row = next(line for line in worst.splitlines() if "campaign\\_response@1" in line)
    assert ", non-compliant: 1 unwaived error (owner-present) |" in row
    rules = text.split("### Most failed rules")[1].split("###")[0]
    row = next(line for line in rules.splitlines() if line.startswith("| owner-present |"))
    assert row.endswith(
        "| add \\`\\`owner:\\`\\` to the set, or once for every set to the store block (a team "
        "address or \\`\\`group:NAME\\`\\`). |"
    )


def test_why_counts_each_severity_and_names_its_rules() -> None:
    qn, body = feature_set("cards", "txn", domain="payments", compliant=False, score=40.0, grade="C")
    findings = [
        finding("breaking-change", qn, "critical"),
        finding("owner-present", qn, "error"),
        finding("ttl-declared", qn, "error"),
        finding("owner-present", f"{qn}#f1", "error"),
        finding("set-description", qn, "warning"),
        finding("join-keys-typed", qn, "error", state="skipped", reason="waived"),
    ]
    report = build_report(
        [record("r1", "2026-06-01T00:00:00Z", sets=[(qn, body)], findings=findings)], now=NOW
    )
    (s,) = report["sets"]
    assert s["why"] == "1 unwaived critical (breaking-change), 3 unwaived error (owner-present, ttl-declared)"
    assert report["worst_sets"][0]["why"] == s["why"]
    assert set(report["rules"]) == {
        "breaking-change", "owner-present", "ttl-declared", "set-description", "join-keys-typed",
    }  # fmt: skip
    assert report["rules"]["ttl-declared"]["fix"].startswith("add ``ttl:``")


def test_a_rule_of_a_pack_file_is_explained_by_the_check_the_run_recorded() -> None:
    qn, body = feature_set("cards", "txn", domain="payments", compliant=False, score=40.0, grade="C")
    found = [finding("team-owner", qn, "error")]
    runs = [record("r1", "2026-06-01T00:00:00Z", sets=[(qn, body)], findings=found)]
    runs[0]["evaluation"]["policy"] = {
        "name": "team", "version": "1", "packs": ["mesh-baseline@1.0.0", "team@1"],
        "checks": {"team-owner": "owner_present"},
    }  # fmt: skip
    about = build_report(runs, now=NOW)["rules"]["team-owner"]
    assert about["title"] == "The feature set names an owner."
    assert about["fix"].startswith("add ``owner:`` to the set")
    assert about["explanation"].startswith("check owner_present (feature_set, ownership, from featmesh)")


def test_check_text_names_the_rules_that_make_a_set_non_compliant(tmp_path: Path) -> None:
    manifest = tmp_path / "marketing.yaml"
    manifest.write_text(MANIFEST)
    result = run("check", str(manifest))
    assert result.exit_code == 1
    assert (
        "featmesh://manifest/marketing/campaign_response@1  score 93.8 (A), "
        "NON-COMPLIANT: 1 unwaived error (owner-present)"
    ) in result.stdout.splitlines()
    assert "featmesh://manifest/marketing/campaign_reach@1  score 100 (A), compliant" in result.stdout

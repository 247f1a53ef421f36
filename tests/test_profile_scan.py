"""scan --profile end to end: profiles stored with the run, pushed per feature, drift next time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from featmesh.connector.catalog.local import LocalCatalog
from tests.conftest import SAMPLES, run, run_json


def _lab(tmp_path: Path) -> Path:
    """A copy of the lab store and its data, so the data can change between scans."""
    shutil.copytree(SAMPLES / "lab", tmp_path / "lab")
    shutil.copytree(SAMPLES / "data", tmp_path / "data")
    return tmp_path / "lab"


def test_scan_profiles_sources_and_pushes_feature_profiles(tmp_path: Path):
    lab = _lab(tmp_path)
    db = tmp_path / "c.db"
    result, summary = run_json("scan", str(lab), "--profile", "--catalog", f"local:{db}", "--json")
    assert result.exit_code == 0, result.stderr
    assert summary["findings"]["critical"] >= 2  # the untagged e-mail and IP columns, seen in the data
    exported = json.loads(run("catalog", "export", "--catalog", f"local:{db}").stdout)["entities"]
    by_qn = {e["attributes"]["qualifiedName"]: e for e in exported}
    email = by_qn["featmesh://manifest/fraud-lab/transaction_signals@1#payer_email"]
    profile = json.loads(email["attributes"]["profile"])
    assert profile["null_fraction"] > 0.5
    assert profile["pii"] == ["email"]
    assert "min" not in profile or profile.get("min") is None  # no value of a PII column leaves
    assert email["classifications"][0]["typeName"] == "FEATMESH.NON_COMPLIANT"
    catalog = LocalCatalog(db, read_only=True)
    stored = catalog.latest_profiles(["featmesh://manifest/fraud-lab/click_behaviour@1"])
    # stored under the source's name, the same in every checkout (tests/test_checkout_identity.py)
    assert list(stored) == [
        (
            "featmesh://manifest/fraud-lab/click_behaviour@1",
            "file:manifest/fraud-lab/../data/marketing_clicks.parquet",
        )
    ]


def test_drift_is_measured_against_the_previous_profile(tmp_path: Path):
    lab = _lab(tmp_path)
    db = f"local:{tmp_path / 'c.db'}"
    run("scan", str(lab), "--profile", "--catalog", db)
    path = tmp_path / "data" / "payments_transactions.parquet"
    table = pq.read_table(path)
    doubled = table.set_column(
        table.schema.get_field_index("amount_eur"), "amount_eur", pc.multiply(table["amount_eur"], 5.0)
    )
    pq.write_table(doubled, path)
    result = run("check", str(lab), "--profile", "--catalog", db, "--format", "json")
    results = json.loads(result.stdout)["results"]
    drift = [r for r in results if r["rule"] == "feature-drift" and r["state"] == "failed"]
    assert [r["target"] for r in drift] == ["featmesh://manifest/fraud-lab/transaction_signals@1#amount_eur"]
    assert "psi" in drift[0]["message"]

"""The default scheduled scan of the samples (``featmesh scan --config samples/featmesh.yaml``)
shows models and the proposed 2.0.0 card-transactions contract's breaks in its reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("samples")
    shutil.copytree(SAMPLES, root / "samples", ignore=shutil.ignore_patterns(".featmesh"))
    config = root / "samples" / "featmesh.yaml"
    first = run("-q", "scan", "--config", str(config))
    assert first.exit_code == 0, first.stderr
    return config


def test_the_markdown_report_names_models_per_domain_and_set_and_the_contract_break(scanned: Path) -> None:
    out = scanned.parent / "r.md"
    assert run("report", "--config", str(scanned), "--format", "markdown", "-o", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "| Domain | Score | Grade | Change | Compliant sets | Open findings | Models |" in text
    assert "| risk | " in text and text.split("| risk | ", 1)[1].split("\n", 1)[0].endswith("| 3 |")
    assert "### Models and consumers" in text
    assert "| fraud-scoring-service | serving-endpoint | risk | fraud-ml@contoso.com | yes |" in text
    assert "model/credit-limit-model@4, model/fraud-model@7, serving-endpoint/fraud-scoring-service" in text
    assert "### Proposed contract change: card\\_transactions 1.4.0 → 2.0.0 (proposed)" in text
    row = next(
        line for line in text.splitlines() if "amount\\_eur changes type from decimal to int64" in line
    )
    assert "credit-limit-model@4, fraud-model@7, fraud-scoring-service" in row
    assert "risk-modelling@contoso.com" in row


def test_the_html_report_shows_the_contract_break_and_the_endpoint_behind_its_model(scanned: Path) -> None:
    out = scanned.parent / "r.html"
    assert run("report", "--config", str(scanned), "-o", str(out)).exit_code == 0
    html = out.read_text(encoding="utf-8")
    section = html.split('<section id="contracts"', 1)[1].split("</section>", 1)[0]
    assert "card_transactions" in section and "1.4.0 → 2.0.0" in section
    assert "column amount_eur changes type from decimal to int64" in section
    assert "credit-limit-model" in section and "column is_online removed" in section
    assert '<a href="#contracts">Contract changes</a>' in html
    mesh = html.split('<section id="mesh"', 1)[1].split("</section>", 1)[0]
    assert ">Endpoints</text>" in mesh


def test_a_second_scheduled_scan_writes_nothing(scanned: Path) -> None:
    again = run("-q", "scan", "--config", str(scanned), "--json")
    assert again.exit_code == 0, again.stderr
    summary = json.loads(again.stdout)
    assert {k: summary["plan"][k] for k in ("create", "update", "delete", "retire")} == dict.fromkeys(
        ("create", "update", "delete", "retire"), 0
    )
    assert summary["applied"]["requests"] == 0

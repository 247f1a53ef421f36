"""Publishing to Apache Atlas and Purview end to end, against the stateful fake."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from featmesh.connector.catalog.rest import DEFAULT_RETRY
from featmesh.typedefs import load_typedefs
from tests.conftest import SAMPLE_MESH_ENTITIES, SAMPLES, run, run_json
from tests.fakeatlas import FakeAtlas

CANARY = "canary-s3cret-9d1c"
ATLAS_URI = "atlas+https://atlas.example.com:21000"
BASE = "https://atlas.example.com:21000/api/atlas/v2"
MANIFESTS = SAMPLES / "manifests"
WRITES = ("POST", "PUT", "DELETE")
VOLATILE = ("runId", "evaluatedAt", "retiredAt")


@pytest.fixture(autouse=True)
def setting(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_USERNAME", "featmesh")
    monkeypatch.setenv("ATLAS_PASSWORD", CANARY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("featmesh.connector.catalog.rest.time.sleep", lambda _s: None)


def _writes(atlas: FakeAtlas) -> int:
    """Requests that change state: searches are POSTs that read."""
    return sum(
        n
        for (method, path), n in atlas.request_counts.items()
        if method in WRITES and not path.startswith("/search")
    )


def _scan(*args: str) -> tuple[int, dict]:
    result, summary = run_json("scan", *args, "--catalog", ATLAS_URI, "--json")
    return result.exit_code, summary


def _folder(tmp_path: Path, edit=None) -> Path:
    folder = tmp_path / "m"
    folder.mkdir(exist_ok=True)
    for path in MANIFESTS.glob("*.yaml"):
        text = path.read_text()
        (folder / path.name).write_text(edit(path.name, text) if edit else text)
    return folder


def test_first_push_then_an_idempotent_re_push():
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as atlas:
        code, summary = _scan(str(MANIFESTS))
        assert code == 0, summary
        held = atlas.entities()
        assert len(held) == SAMPLE_MESH_ENTITIES
        assert atlas.typedef("featmesh_feature_set") is not None
        store = held[("featmesh_feature_store", "featmesh://manifest/payments")]
        assert len(store["relationshipAttributes"]["featureSets"]) == 3
        # at most ceil(entities / batch size) bulk writes
        assert atlas.count("POST", "/entity/bulk") == 2
        before = _writes(atlas)
        code, again = _scan(str(MANIFESTS))
        assert code == 0
        assert again["plan"]["create"] == again["plan"]["update"] == again["plan"]["delete"] == 0
        assert again["plan"]["unchanged"] == SAMPLE_MESH_ENTITIES
        assert _writes(atlas) == before  # re-publishing the unchanged mesh sends no write at all


def test_a_changed_and_a_removed_feature_set(tmp_path: Path):
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as atlas:
        folder = _folder(tmp_path)
        assert _scan(str(folder))[0] == 0

        def edit(name: str, text: str) -> str:
            if name != "payments.yaml":
                return text
            text = text.replace("ttl: 2d", "ttl: 3d")
            text = text.replace(
                "    description: Daily chargeback and refund signals per merchant, "
                "from the acquirer's settlement files.\n",
                "",
            )
            return text[: text.index("  - name: card_usage_patterns")]

        _folder(tmp_path, edit)
        code, summary = _scan(str(folder))
        assert code == 0, summary
        held = atlas.entities()
        ttl = held[("featmesh_feature_set", "featmesh://manifest/payments/transaction_aggregates@2")]
        assert ttl["attributes"]["ttlSeconds"] == 3 * 86400
        signals = held[("featmesh_feature_set", "featmesh://manifest/payments/merchant_risk_signals@1")]
        assert signals["attributes"]["description"] is None  # cleared, not left behind
        assert ("featmesh_feature_set", "featmesh://manifest/payments/card_usage_patterns@1") not in held
        deleted = atlas.entities(status="DELETED")
        assert (
            "featmesh_feature",
            "featmesh://manifest/payments/card_usage_patterns@1#billing_email",
        ) in deleted
        # the columns only the removed set read stay on their placeholder, as placeholders do:
        # another store may read them (featmesh writes a placeholder's columns, never prunes them)
        product = "featmesh://data-product/main.payments.card_transactions"
        stale = {("featmesh_column", f"{product}#{c}") for c in ("billing_email", "channel")}
        assert stale <= set(held)
        unchanged = _scan(str(folder))[1]["plan"]["unchanged"]
        assert unchanged == len(held) - len(stale)


def test_keep_deleted_retires_instead(tmp_path: Path):
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as atlas:
        folder = _folder(tmp_path)
        _scan(str(folder))
        text = (folder / "payments.yaml").read_text()
        (folder / "payments.yaml").write_text(text[: text.index("  - name: card_usage_patterns")])
        code, summary = _scan(str(folder), "--keep-deleted")
        assert code == 0, summary
        retired = atlas.classifications(
            "featmesh_feature_set", "featmesh://manifest/payments/card_usage_patterns@1"
        )
        assert "FEATMESH.RETIRED" in retired  # beside the last compliance outcome it had
        assert (
            atlas.entity("featmesh_feature_set", "featmesh://manifest/payments/card_usage_patterns@1")[
                "status"
            ]
            == "ACTIVE"
        )
        writes = _writes(atlas)
        assert _scan(str(folder), "--keep-deleted")[0] == 0
        assert _writes(atlas) == writes


def test_typedef_upgrade_and_a_refused_change():
    old = load_typedefs()
    for typedef in old["entityDefs"]:
        if typedef["name"] == "featmesh_feature_set":
            typedef["attributeDefs"] = [a for a in typedef["attributeDefs"] if a["name"] != "stage"]
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as atlas:
        atlas_doc = {k: v for k, v in old.items() if v}
        run_fake_upload(atlas, atlas_doc)
        result = run("typedefs", "push", "--catalog", ATLAS_URI)
        assert result.exit_code == 0, result.stderr
        assert "update 1 types" in result.stdout and "featmesh_feature_set" in result.stdout
        names = {a["name"] for a in atlas.typedef("featmesh_feature_set")["attributeDefs"]}
        assert "stage" in names
        assert run("typedefs", "push", "--catalog", ATLAS_URI).stdout.endswith(
            "create 0 and update 0 types\n"
        )

    refused = load_typedefs()
    for typedef in refused["entityDefs"]:
        if typedef["name"] == "featmesh_feature_set":
            for attribute in typedef["attributeDefs"]:
                if attribute["name"] == "ttlSeconds":
                    attribute["typeName"] = "string"
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as atlas:
        run_fake_upload(atlas, {k: v for k, v in refused.items() if v})
        writes = _writes(atlas)
        result = run("typedefs", "push", "--catalog", ATLAS_URI)
        assert result.exit_code == 3
        assert "cannot be updated in place, nothing was sent" in result.stderr
        assert "ttlSeconds" in result.stderr
        assert _writes(atlas) == writes


def run_fake_upload(atlas: FakeAtlas, doc: dict) -> None:
    import requests

    auth = base64.b64encode(f"featmesh:{CANARY}".encode()).decode()
    answer = requests.post(
        f"{BASE}/types/typedefs", json=doc, headers={"Authorization": f"Basic {auth}"}, timeout=5
    )
    assert answer.status_code == 200, answer.text


def test_a_push_under_30_percent_faults_ends_in_the_fault_free_state():
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as clean:
        assert _scan(str(MANIFESTS))[0] == 0
        expected = clean.snapshot(drop_attributes=VOLATILE)
    with FakeAtlas(BASE, auth=("featmesh", CANARY), faults=0.3, seed=2) as faulty:
        code, summary = _scan(str(MANIFESTS), "--batch-size", "10")
        assert code == 0, summary["failures"]
        assert faulty.snapshot(drop_attributes=VOLATILE) == expected
        assert {c.fault for c in faulty.calls} >= {"429", "503", "drop"}
        code, again = _scan(str(MANIFESTS), "--batch-size", "10")
        assert code == 0 and again["plan"]["unchanged"] == SAMPLE_MESH_ENTITIES
        assert faulty.snapshot(drop_attributes=VOLATILE) == expected


def test_a_failed_batch_is_recorded_and_resume_finishes_the_job(tmp_path: Path):
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as clean:
        _scan(str(MANIFESTS))
        expected = clean.snapshot(drop_attributes=VOLATILE)
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as atlas:
        atlas.fail("POST", "/entity/bulk", nth=2)  # the second batch, and each of its retries
        for _ in range(DEFAULT_RETRY.max_attempts - 1):
            atlas.fail("POST", "/entity/bulk", nth=1)
        code, summary = _scan(str(MANIFESTS), "--batch-size", "60")
        assert code == 3
        assert summary["status"] == "partial"
        assert any("entity batch 2" in f for f in summary["failures"])
        written = len(atlas.entities())
        assert 0 < written < SAMPLE_MESH_ENTITIES
        result, resumed = run_json("scan", "--resume", "--catalog", ATLAS_URI, "--json")
        assert result.exit_code == 0, resumed
        assert resumed["resumed_from"] == summary["run_id"]
        assert resumed["plan"]["create"] == SAMPLE_MESH_ENTITIES - written
        assert atlas.snapshot(drop_attributes=VOLATILE) == expected
        nothing = run("scan", "--resume", "--catalog", ATLAS_URI)
        assert nothing.exit_code == 2 and "nothing to resume" in nothing.stderr


def test_purview_publish_and_export(monkeypatch):
    credential = SimpleNamespace(
        get_token=lambda scope: SimpleNamespace(token=f"token-{CANARY}", expires_on=4102444800)
    )
    monkeypatch.setattr("featmesh.connector.catalog.auth.azure_credential", lambda env=None: credential)
    with FakeAtlas.purview("contoso") as purview:
        result, summary = run_json("scan", str(MANIFESTS), "--catalog", "purview://contoso", "--json")
        assert result.exit_code == 0, summary
        assert len(purview.entities()) == SAMPLE_MESH_ENTITIES
        exported = json.loads(run("catalog", "export", "--catalog", "purview://contoso").stdout)["entities"]
        assert len(exported) == SAMPLE_MESH_ENTITIES
        process = next(
            e
            for e in exported
            if e["attributes"]["qualifiedName"].endswith("customer_risk_360@1/pipeline/derivation")
        )
        mapping = json.loads(process["attributes"]["columnMapping"])
        assert {m["DatasetMapping"]["Source"] for m in mapping} == {
            "featmesh://manifest/payments/transaction_aggregates@2",
            "featmesh://manifest/customer-360/customer_profile@3",
        }


def test_an_unreachable_catalog_still_summarises_and_records_the_run():
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as atlas:
        for _ in range(DEFAULT_RETRY.max_attempts):
            atlas.fail("GET", "/types/typedefs/headers", nth=1)
        code, summary = _scan(str(MANIFESTS))
        assert code == 3 and summary["status"] == "partial"
        assert summary["counts"]["feature_sets"] == 9
        assert "catalog unreachable, nothing was written" in summary["failures"][0]
        assert _writes(atlas) == 0
        runs = run_json("runs", "--catalog", ATLAS_URI, "--json")[1]
        assert runs[0]["run_id"] == summary["run_id"]


def test_export_from_atlas_matches_what_was_pushed():
    with FakeAtlas(BASE, auth=("featmesh", CANARY)):
        _scan(str(MANIFESTS))
        result = run("catalog", "export", "--catalog", ATLAS_URI)
        assert result.exit_code == 0, result.stderr
        entities = json.loads(result.stdout)["entities"]
        assert len(entities) == SAMPLE_MESH_ENTITIES
        feature = next(e for e in entities if e["attributes"]["qualifiedName"].endswith("#txn_count_7d"))
        assert feature["relationshipAttributes"]["featureSet"]["uniqueAttributes"]["qualifiedName"] == (
            "featmesh://manifest/payments/transaction_aggregates@2"
        )


def test_credentials_never_appear_in_output_logs_or_the_run_record(tmp_path: Path, caplog):
    caplog.set_level(logging.DEBUG)
    encoded = base64.b64encode(f"featmesh:{CANARY}".encode()).decode()
    with FakeAtlas(BASE, auth=("featmesh", CANARY), faults=0.3, seed=3):
        result = run("-vv", "scan", str(MANIFESTS), "--catalog", ATLAS_URI, "--json")
        runs = run("runs", "--catalog", ATLAS_URI, "--json")
    with FakeAtlas(BASE, auth=("featmesh", "wrong-password")):
        refused = run("scan", str(MANIFESTS), "--catalog", ATLAS_URI)
    assert refused.exit_code == 3 and "HTTP 401" in refused.stdout + refused.stderr
    history = (tmp_path / ".featmesh" / "history.db").read_bytes()
    for text in (result.stdout, result.stderr, runs.stdout, refused.stdout, refused.stderr, caplog.text):
        assert CANARY not in text and encoded not in text
    assert CANARY.encode() not in history and encoded.encode() not in history


def test_retire_removed_retires_a_removed_source_s_store_in_atlas(tmp_path: Path):
    """A source taken out of featmesh.yaml: its store's sets get FEATMESH.RETIRED in Atlas
    (classification POSTs), stay ACTIVE entities, and a rescan writes nothing more."""
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as atlas:
        folder = _folder(tmp_path)
        (tmp_path / "lab").mkdir()
        (tmp_path / "lab" / "lab.yaml").write_text((SAMPLES / "lab" / "fraud-lab.yaml").read_text())
        config = tmp_path / "featmesh.yaml"
        head = f"version: 1\ncatalog:\n  uri: {ATLAS_URI}\nsources:\n  - uri: manifest:{folder}\n"
        config.write_text(head + f"  - uri: manifest:{tmp_path / 'lab'}\n")
        first, _ = run_json("scan", "--config", str(config), "--json")
        assert first.exit_code == 0, first.stderr
        config.write_text(head)
        result, summary = run_json("scan", "--config", str(config), "--json", "--retire-removed")
        assert result.exit_code == 0, result.stderr
        (removed,) = summary["removed_sources"]
        assert removed["retired"] is True and summary["applied"]["retired"] > 0
        lab = [
            qn
            for (type_name, qn) in atlas.entities()
            if type_name == "featmesh_feature_set" and qn.startswith(removed["stores"][0] + "/")
        ]
        assert lab
        assert all("FEATMESH.RETIRED" in atlas.classifications("featmesh_feature_set", qn) for qn in lab)
        assert all(atlas.entity("featmesh_feature_set", qn)["status"] == "ACTIVE" for qn in lab)
        writes = _writes(atlas)
        again, _ = run_json("scan", "--config", str(config), "--json")
        assert again.exit_code == 0 and "no longer scanned" not in again.stderr
        assert _writes(atlas) == writes

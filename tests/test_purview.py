"""Publishing to Microsoft Purview as it really behaves, against the fake's Purview flavour.

Facts about Purview and Atlas these tests rely on, and where they come from:

- Classifications propagate along lineage unless sent with ``"propagate": false``: Atlas's
  base model declares ``dataset_process_inputs`` TWO_TO_ONE and ``process_dataset_outputs``
  ONE_TO_TWO (apache/atlas ``addons/models/0000-Area0/0010-base_model.json``); pyapacheatlas
  stopped propagating bulk-uploaded classifications by default after propagated copies
  flooded related entities (https://github.com/wjohnson/pyapacheatlas/issues/71, #82).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests

from tests.conftest import SAMPLES, run_json
from tests.fakeatlas import FakeAtlas

MANIFESTS = SAMPLES / "manifests"
PURVIEW = "purview://contoso"
SET = "featmesh_feature_set"
PIPELINE = "featmesh_feature_pipeline"
PARENT = "featmesh://manifest/payments/transaction_aggregates@2"


@pytest.fixture(autouse=True)
def setting(monkeypatch, tmp_path):
    credential = SimpleNamespace(
        get_token=lambda *scopes, **kw: SimpleNamespace(token="t0k3n", expires_on=4102444800)
    )
    monkeypatch.setattr("featmesh.connector.catalog.auth.azure_credential", lambda env=None: credential)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("featmesh.connector.catalog.rest.time.sleep", lambda _s: None)


def _derived(purview: FakeAtlas) -> tuple[str, str]:
    keys = purview.entities()
    derived = next(qn for t, qn in keys if t == SET and qn.endswith("/customer_risk_360@1"))
    pipeline = next(qn for t, qn in keys if t == PIPELINE and qn.startswith(derived + "/"))
    return derived, pipeline


def test_featmesh_verdicts_stay_on_their_own_target():
    with FakeAtlas.purview("contoso") as purview:
        result, summary = run_json("scan", str(MANIFESTS), "--catalog", PURVIEW, "--json")
        assert result.exit_code == 0, summary
        derived, pipeline = _derived(purview)
        assert purview.classifications(SET, PARENT)  # the parent has its verdict
        assert purview.propagated(SET, derived) == {}
        assert purview.propagated(PIPELINE, pipeline) == {}
        answered = purview.entity(SET, PARENT)
        assert answered is not None
        assert all(c["propagate"] is False for c in answered["classifications"])


def test_the_fake_propagates_a_classification_sent_without_propagate():
    """The payload featmesh used to send: the parent's verdict reached the pipeline and the derived set."""
    with FakeAtlas.purview("contoso") as purview:
        run_json("scan", str(MANIFESTS), "--catalog", PURVIEW, "--json")
        derived, pipeline = _derived(purview)
        parent = purview.entity(SET, PARENT)
        assert parent is not None
        name = parent["classifications"][0]["typeName"]
        base, guid = purview.base, parent["guid"]
        headers = {"Authorization": "Bearer t0k3n", "Content-Type": "application/json"}
        assert requests.delete(f"{base}/entity/guid/{guid}/classification/{name}", headers=headers).ok
        body = [{"typeName": name, "attributes": parent["classifications"][0]["attributes"]}]
        assert requests.post(f"{base}/entity/guid/{guid}/classifications", json=body, headers=headers).ok
        assert purview.propagated(PIPELINE, pipeline) == {name: [PARENT]}
        assert PARENT in purview.propagated(SET, derived)[name]
        shown = purview.entity(SET, derived)
        assert shown is not None
        assert any(c["entityGuid"] == guid for c in shown["classifications"])
        # featmesh reads only the set's own verdict: a rescan changes nothing it owns
        result, summary = run_json("scan", str(MANIFESTS), "--catalog", PURVIEW, "--json")
        assert result.exit_code == 0, summary

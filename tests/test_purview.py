"""Publishing to Microsoft Purview as it really behaves, against the fake's Purview flavour.

Facts about Purview and Atlas these tests rely on, and where they come from:

- Entra ID client-credential sign-in (what azure-identity's ``ClientSecretCredential`` asks,
  through MSAL): ``GET https://{authority}/{tenant}/v2.0/.well-known/openid-configuration``,
  ``POST https://{authority}/{tenant}/oauth2/v2.0/token`` (``scope`` = the resource's
  ``/.default``), an instance discovery ``GET .../common/discovery/instance``; a wrong
  secret is ``401 invalid_client`` with ``AADSTS7000215`` (https://learn.microsoft.com/
  entra/identity-platform/v2-oauth2-client-creds-grant-flow, error codes at
  https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
- Token scopes per cloud: ``https://purview.azure.net/.default`` (public),
  ``https://purview.azure.cn/.default`` (Azure China, Data Map hosts ``*.purview.azure.cn``),
  ``https://purview.azure.us/.default`` (US Government, ``*.purview.azure.us``); authority
  hosts ``login.chinacloudapi.cn`` and ``login.microsoftonline.us``
  (azure-identity ``AzureAuthorityHosts``, https://learn.microsoft.com/python/api/azure-identity/
  azure.identity.azureauthorityhosts).
- Classifications propagate along lineage unless sent with ``"propagate": false``: Atlas's
  base model declares ``dataset_process_inputs`` TWO_TO_ONE and ``process_dataset_outputs``
  ONE_TO_TWO (apache/atlas ``addons/models/0000-Area0/0010-base_model.json``); pyapacheatlas
  stopped propagating bulk-uploaded classifications by default after propagated copies
  flooded related entities (https://github.com/wjohnson/pyapacheatlas/issues/71, #82).
"""

from __future__ import annotations

import copy
import json
import re
from types import SimpleNamespace

import pytest
import requests
import responses

from featmesh.connector.catalog import open_catalog
from featmesh.connector.catalog.atlas import purview_endpoint
from featmesh.connector.catalog.auth import purview_scope
from featmesh.connector.errors import UsageError
from featmesh.typedefs import load_typedefs, validate_document
from tests.conftest import SAMPLE_MESH_ENTITIES, SAMPLES, run, run_json
from tests.fakeatlas import FakeAtlas

MANIFESTS = SAMPLES / "manifests"
PURVIEW = "purview://contoso"
SET = "featmesh_feature_set"
PIPELINE = "featmesh_feature_pipeline"
PARENT = "featmesh://manifest/payments/transaction_aggregates@2"


@pytest.fixture(autouse=True)
def setting(monkeypatch, tmp_path):
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("featmesh.connector.catalog.rest.time.sleep", lambda _s: None)


@pytest.fixture
def token(monkeypatch):
    """A credential that always has a token: for tests about the Data Map, not Entra ID."""
    access = SimpleNamespace(token="t0k3n", expires_on=4102444800)
    credential = SimpleNamespace(get_token=lambda *scopes, **kw: access)
    monkeypatch.setattr("featmesh.connector.catalog.auth.azure_credential", lambda env=None: credential)


def _derived(purview: FakeAtlas) -> tuple[str, str]:
    keys = purview.entities()
    derived = next(qn for t, qn in keys if t == SET and qn.endswith("/customer_risk_360@1"))
    pipeline = next(qn for t, qn in keys if t == PIPELINE and qn.startswith(derived + "/"))
    return derived, pipeline


def test_featmesh_verdicts_stay_on_their_own_target(token):
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


def test_the_fake_propagates_a_classification_sent_without_propagate(token):
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


TENANT = "72f988bf-0000-4000-8000-000000000001"
SECRET = "canary-wrong-s3cret-5e1f"


def _entra(mock: responses.RequestsMock, authority: str, *, secret_ok: bool) -> None:
    """Entra ID's answers to a client-credential sign-in, as MSAL asks for them."""
    base = f"https://{authority}/{TENANT}"
    mock.get(
        f"{base}/v2.0/.well-known/openid-configuration",
        json={
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "issuer": f"https://{authority}/{TENANT}/v2.0",
        },
    )
    mock.get(
        re.compile(rf"https://{re.escape(authority)}/common/discovery/instance.*"),
        json={
            "tenant_discovery_endpoint": f"{base}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [
                {"preferred_network": authority, "preferred_cache": authority, "aliases": [authority]}
            ],
        },
    )
    if secret_ok:
        mock.post(
            f"{base}/oauth2/v2.0/token",
            json={"token_type": "Bearer", "expires_in": 3599, "access_token": "entra-t0k3n"},
        )
    else:
        mock.post(
            f"{base}/oauth2/v2.0/token",
            status=401,
            json={
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret "
                "being sent in the request is the client secret value, not the client secret ID.\r\n"
                "Trace ID: 0c3c\r\nCorrelation ID: 9d1e\r\nTimestamp: 2024-05-01 10:00:00Z",
                "error_codes": [7000215],
            },
        )


def _client_secret_env(monkeypatch) -> None:
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", "0a1b2c3d-0000-4000-8000-000000000002")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", SECRET)


def _no_traceback_nor_secret(result) -> None:
    assert "Traceback" not in result.stderr and "ClientAuthenticationError(" not in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_a_wrong_secret_is_a_catalog_failure_with_the_run_recorded(monkeypatch):
    _client_secret_env(monkeypatch)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _entra(mock, "login.microsoftonline.com", secret_ok=False)
        purview = FakeAtlas.purview("contoso", mock=mock)
        purview.start()
        result, summary = run_json("scan", str(MANIFESTS), "--catalog", PURVIEW, "--json")
        assert purview.calls == []  # nothing reached the Data Map
    assert result.exit_code == 3, result.stderr
    _no_traceback_nor_secret(result)
    assert summary["status"] == "partial" and summary["counts"]["feature_sets"] == 9
    failure = summary["failures"][0]
    assert "ClientSecretCredential (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)" in failure
    assert "AADSTS7000215" in failure
    runs = run_json("runs", "--catalog", PURVIEW, "--json")[1]
    assert runs[0]["run_id"] == summary["run_id"]


def test_unreachable_entra_id_is_a_catalog_failure(monkeypatch):
    _client_secret_env(monkeypatch)
    monkeypatch.setattr("time.sleep", lambda _s: None)  # azure-core's own retries
    with FakeAtlas.purview("contoso"):  # Entra ID answers nothing: connection refused
        result, summary = run_json("scan", str(MANIFESTS), "--catalog", PURVIEW, "--json")
    assert result.exit_code == 3, result.stderr
    _no_traceback_nor_secret(result)
    assert "from ClientSecretCredential" in summary["failures"][0]
    assert summary["counts"]["feature_sets"] == 9


def test_a_sovereign_cloud_endpoint_signs_in_there_and_asks_for_its_scope(monkeypatch):
    _client_secret_env(monkeypatch)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "login.chinacloudapi.cn")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _entra(mock, "login.chinacloudapi.cn", secret_ok=True)
        purview = FakeAtlas.purview(
            "contoso", host="https://contoso.purview.azure.cn", token="entra-t0k3n", mock=mock
        )
        purview.start()
        uri = "purview+https://contoso.purview.azure.cn"
        result, _ = run_json("scan", str(MANIFESTS), "--catalog", uri, "--json")
        assert result.exit_code == 0, result.stderr
        assert len(purview.entities()) == SAMPLE_MESH_ENTITIES
        asked = [c.request for c in mock.calls if c.request.url.endswith("/oauth2/v2.0/token")]
    assert asked and "purview.azure.cn%2F.default" in str(asked[0].body)


@pytest.mark.parametrize(
    ("uri", "endpoint"),
    [
        ("purview://contoso", "https://contoso.purview.azure.com/datamap/api/atlas/v2"),
        ("purview+https://contoso.purview.azure.us", "https://contoso.purview.azure.us/datamap/api/atlas/v2"),
        ("purview+https://10.1.2.3:8443/", "https://10.1.2.3:8443/datamap/api/atlas/v2"),
        ("purview+http://127.0.0.1:9000", "http://127.0.0.1:9000/datamap/api/atlas/v2"),
    ],
)
def test_purview_endpoints(uri, endpoint):
    assert purview_endpoint(uri) == endpoint


@pytest.mark.parametrize(
    "uri",
    [
        "purview://",
        "purview://a.b",
        "purview+https://",
        "purview+https://u:p@host",
        "purview+http://example.com",
        "purview+https://host:notaport",
    ],
)
def test_bad_purview_endpoints(uri):
    with pytest.raises(UsageError):
        purview_endpoint(uri)


def test_scopes_follow_the_cloud():
    assert purview_scope("contoso.purview.azure.com") == "https://purview.azure.net/.default"
    assert purview_scope("contoso.purview.azure.cn:443") == "https://purview.azure.cn/.default"
    assert purview_scope("CONTOSO.PURVIEW.AZURE.US") == "https://purview.azure.us/.default"
    assert purview_scope("10.1.2.3:8443") == "https://purview.azure.net/.default"


# --------------------------------------------------------------------------- collections

COLLECTIONS = {"payments": "payments-col", "customer": "customer-col", "risk": "risk-col"}
"""Collections are addressed by their id (the short name), as the bulk call's ``collectionId``
query parameter takes it (https://learn.microsoft.com/rest/api/purview/datamapdataplane/entity/
bulk-create-or-update: "The collection where entities will be moved to"), and moved with
``POST /entity/moveTo?collectionId=`` body ``{"entityGuids": [...]}`` (Entity - Move Entities To
Collection in the same reference)."""


def _config(tmp_path, domains: dict[str, str], *, extra: str = "") -> str:
    lines = "\n".join(f"      {d}: {c}" for d, c in domains.items()) or "      {}"
    path = tmp_path / "featmesh.yaml"
    path.write_text(
        f"version: 1\ncatalog:\n  uri: {PURVIEW}\n  collections:\n    default: mesh-col\n"
        f"    domains:\n{lines}\n"
        f"{extra}sources:\n  - uri: manifest:{MANIFESTS}\n"
    )
    return str(path)


def _fake(**kwargs) -> FakeAtlas:
    return FakeAtlas.purview(
        "contoso", collections=[*COLLECTIONS.values(), "mesh-col", "moved-col"], **kwargs
    )


def _set_qn(purview: FakeAtlas, domain: str) -> str:
    return next(
        qn
        for (t, qn), e in purview.entities().items()
        if t == SET and e["attributes"].get("domain") == domain
    )


def test_each_domain_lands_in_its_collection_with_its_features(token, tmp_path):
    with _fake() as purview:
        result, summary = run_json("scan", "--config", _config(tmp_path, COLLECTIONS), "--json")
        assert result.exit_code == 0, summary
        payments = _set_qn(purview, "payments")
        assert purview.collection_of(SET, payments) == "payments-col"
        features = [
            qn for t, qn in purview.entities() if t == "featmesh_feature" and qn.startswith(payments + "#")
        ]
        assert features and {purview.collection_of("featmesh_feature", f) for f in features} == {
            "payments-col"
        }
        marketing = _set_qn(purview, "marketing")
        assert purview.collection_of(SET, marketing) == "mesh-col"  # not mapped: the default
        assert all(e.get("collectionId") != "contoso" for e in purview.entities().values())


def test_a_changed_mapping_moves_the_sets(token, tmp_path):
    with _fake() as purview:
        run_json("scan", "--config", _config(tmp_path, COLLECTIONS), "--json")
        payments = _set_qn(purview, "payments")
        result, summary = run_json(
            "scan", "--config", _config(tmp_path, {**COLLECTIONS, "payments": "moved-col"}), "--json"
        )
        assert result.exit_code == 0, summary
        assert purview.collection_of(SET, payments) == "moved-col"
        assert purview.count("POST", "/entity/moveTo") >= 1


def test_a_collection_the_principal_may_not_curate_fails_its_batches_only(token, tmp_path):
    allowed = ["customer-col", "risk-col", "mesh-col"]
    with _fake(curator_of=allowed) as purview:
        result, summary = run_json("scan", "--config", _config(tmp_path, COLLECTIONS), "--json")
        assert result.exit_code == 3, summary
        failures = " ".join(summary["failures"])
        assert "collection 'payments-col'" in failures and "Data Curator role" in failures
        assert "HTTP 403" in failures
        assert purview.collection_of(SET, _set_qn(purview, "customer")) == "customer-col"
        assert not any(
            e["attributes"].get("domain") == "payments"
            for (t, _), e in purview.entities().items()
            if t == SET
        )


def test_collections_are_refused_for_atlas(tmp_path, monkeypatch):
    path = tmp_path / "featmesh.yaml"
    path.write_text(
        "version: 1\ncatalog:\n  uri: atlas+https://atlas.example.com\n  collections:\n    default: x\n"
        f"sources:\n  - uri: manifest:{MANIFESTS}\n"
    )
    monkeypatch.setenv("ATLAS_USERNAME", "u")
    monkeypatch.setenv("ATLAS_PASSWORD", "p")
    result = run("scan", "--config", str(path))
    assert result.exit_code == 2 and "collections are a Purview setting" in result.stderr


# --------------------------------------------------------------------------- throughput


class SimClock:
    """One simulated clock for featmesh's pacer and retries and for the fake's meter."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_pacer_stays_under_the_meter(token, tmp_path, monkeypatch):
    clock = SimClock()
    monkeypatch.setattr("featmesh.connector.catalog.rest._sleep", clock.sleep)
    monkeypatch.setattr("featmesh.connector.catalog.rest._monotonic", clock)
    with FakeAtlas.purview("contoso", operations_per_second=25, clock=clock) as purview:
        result, summary = run_json("scan", str(MANIFESTS), "--catalog", PURVIEW, "--json")
        assert result.exit_code == 0, summary
        assert purview.throttled == 0
        assert clock.now > 0  # the pacer waited


def test_an_unpaced_client_is_throttled_and_honours_retry_after(token, tmp_path, monkeypatch):
    clock = SimClock()
    monkeypatch.setattr("featmesh.connector.catalog.rest._sleep", clock.sleep)
    monkeypatch.setattr("featmesh.connector.catalog.rest._monotonic", clock)
    config = _config(tmp_path, {}, extra="  operations_per_second: 10000\n")
    with FakeAtlas.purview(
        "contoso", operations_per_second=25, clock=clock, collections=["mesh-col"]
    ) as purview:
        result, summary = run_json("scan", "--config", config, "--json")
        assert result.exit_code == 0, summary
        assert purview.throttled > 0
        assert len(purview.entities()) == SAMPLE_MESH_ENTITIES


def test_batches_stay_within_purview_limits(token):
    with FakeAtlas.purview("contoso") as purview:
        catalog = open_catalog(PURVIEW, batch_size=1000)
        assert catalog.batch_size == 200  # type: ignore[attr-defined]
        headers = {"Authorization": "Bearer t0k3n"}
        too_many = {"entities": [{"typeName": SET, "attributes": {}}] * 201}
        answer = requests.post(f"{purview.base}/entity/bulk", json=too_many, headers=headers)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "BadRequest"
        big = {"entities": [{"typeName": SET, "attributes": {"description": "x" * (2 * 1024 * 1024)}}]}
        assert requests.post(f"{purview.base}/entity/bulk", json=big, headers=headers).status_code == 413


def test_a_408_is_retried(token):
    with FakeAtlas.purview("contoso") as purview:
        purview.fail("POST", "/entity/bulk", nth=1, kind="408")
        result, summary = run_json("scan", str(MANIFESTS), "--catalog", PURVIEW, "--json")
        assert result.exit_code == 0, summary
        assert any(c.status == 408 for c in purview.calls)
        assert len(purview.entities()) == SAMPLE_MESH_ENTITIES


def test_a_lagging_search_index_never_changes_what_a_rescan_decides(token):
    """Purview's discovery search trails the Data Map (https://learn.microsoft.com/purview/
    concept-best-practices-search: newly ingested assets appear after indexing); featmesh
    plans from unique-attribute lookups, so a rescan right after a load creates and deletes
    nothing, whatever the index shows."""
    with FakeAtlas.purview("contoso") as purview:
        purview.index_lag = 1_000_000  # nothing indexed yet
        first, _ = run_json("scan", str(MANIFESTS), "--catalog", PURVIEW, "--json")
        assert first.exit_code == 0
        exported = json.loads(run("catalog", "export", "--catalog", PURVIEW).stdout)["entities"]
        assert exported == []  # the index is behind
        again, summary = run_json("scan", str(MANIFESTS), "--catalog", PURVIEW, "--json")
        assert again.exit_code == 0, summary
        assert summary["plan"]["create"] == 0 and summary["plan"]["delete"] == 0
        assert len(purview.entities()) == SAMPLE_MESH_ENTITIES


# --------------------------------------------------------------------------- schema option

SCHEMA_NOTE = (
    "Purview's Schema tab lists the entities of the relationship attribute the type names in "
    "options.schemaElementsAttribute (azure_sql_table: columns, a SET end), showing for each "
    "the attributes its own type lists in options.schemaAttributes (azure_sql_column: "
    '"["data_type"]"): Microsoft Purview docs, "Tutorial: What are type definitions and how to '
    "create custom ones\" (https://learn.microsoft.com/purview/tutorial-custom-types). Apache Atlas's "
    "own UI reads the same option (apache/atlas dashboardv2, the entity detail view)."
)


def _feature_set_def(options):
    doc = load_typedefs()
    body = copy.deepcopy(doc)
    for typedef in body["entityDefs"]:
        if typedef["name"] == SET:
            if options is None:
                typedef.pop("options", None)
            else:
                typedef["options"] = options
    return body


def test_the_feature_set_type_names_its_features_as_its_schema():
    doc = load_typedefs()
    feature_set = next(t for t in doc["entityDefs"] if t["name"] == SET)
    assert feature_set["options"] == {"schemaElementsAttribute": "features"}
    feature = next(t for t in doc["entityDefs"] if t["name"] == "featmesh_feature")
    assert json.loads(feature["options"]["schemaAttributes"]) == ["dataType"]
    assert validate_document(doc) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"schemaElementsAttribute": "columns"}, "'columns' is not a relationship attribute"),
        ({"schemaElementsAttribute": "store"}, "is a single reference"),
        ({"schemaElementsAttribute": 3}, "options must map names to strings"),
        ({"schemaElementsAttribute": ""}, "must name a relationship attribute"),
        ({"schemaElementsAttribute": "features", "schemaAttributes": '["nope"]'}, "'nope', not an attribute"),
        ({"schemaElementsAttribute": "features", "schemaAttributes": "[oops"}, "not a JSON list"),
    ],
)
def test_a_bad_schema_option_is_refused(options, message):
    problems = [str(p) for p in validate_document(_feature_set_def(options))]
    assert any(message in p for p in problems), problems


def test_typedefs_push_adds_the_schema_option_to_an_older_catalog(token):
    with FakeAtlas.purview("contoso", typedefs=None) as purview:
        purview_doc = _feature_set_def(None)
        requests.post(
            f"{purview.base}/types/typedefs", json=purview_doc, headers={"Authorization": "Bearer t0k3n"}
        )
        before = purview.typedef(SET)
        assert before is not None and "options" not in before
        result = run("typedefs", "push", "--catalog", PURVIEW)
        assert result.exit_code == 0, result.stderr
        after = purview.typedef(SET)
        assert after is not None and after["options"] == {"schemaElementsAttribute": "features"}

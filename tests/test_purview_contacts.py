"""Owners and experts as Purview contacts: addresses resolved to Entra object ids.

Payload shapes, and where they come from:

- ``GET https://graph.microsoft.com/v1.0/users/{id | userPrincipalName}`` answers the user
  resource: ``@odata.context``, ``businessPhones``, ``displayName``, ``givenName``,
  ``jobTitle``, ``mail``, ``mobilePhone``, ``officeLocation``, ``preferredLanguage``,
  ``surname``, ``userPrincipalName``, ``id`` (the object id)
  (https://learn.microsoft.com/graph/api/user-get, "Get user", response example).
- An unknown user is ``404`` with Graph's error body ``{"error": {"code":
  "Request_ResourceNotFound", "message": "Resource '...' does not exist or one of its
  queried reference-property objects are not present.", "innerError": {"date",
  "request-id", "client-request-id"}}}`` (https://learn.microsoft.com/graph/errors).
- ``GET /users/{id | userPrincipalName}`` returns by default businessPhones, displayName,
  givenName, id, jobTitle, mail, mobilePhone, officeLocation, preferredLanguage, surname,
  userPrincipalName; application permission User.Read.All at least; a UPN starting with ``$``
  is addressed as ``/users('$x@y.com')``, a B2B UPN's ``#`` as ``%23`` (same page, tips).
- Graph's service root per cloud: ``graph.microsoft.com``, ``graph.microsoft.us`` (US
  Government L4), ``microsoftgraph.chinacloudapi.cn`` (21Vianet); ``.default`` scopes use
  the same host (https://learn.microsoft.com/graph/deployments,
  https://learn.microsoft.com/graph/sdks/national-clouds).
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
import responses

from featmesh.connector.catalog.contacts import OwnerDirectory, addresses, graph_root, user_path
from tests.conftest import SAMPLES, run_json
from tests.fakeatlas import FakeAtlas

GRAPH = "https://graph.microsoft.com/v1.0/users/"
PAYMENTS_ID = "4a1c2b7e-93d0-4f6a-8d2e-0b5f6c7d8e91"
RISK_ID = "9f8e7d6c-5b4a-4321-8fed-cba987654321"
SET = "featmesh_feature_set"
STORE = "featmesh_feature_store"


def _user(upn: str, object_id: str) -> dict:
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
        "businessPhones": ["+1 425 555 0109"],
        "displayName": "Payments ML",
        "givenName": None,
        "jobTitle": None,
        "mail": upn,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
        "surname": None,
        "userPrincipalName": upn,
        "id": object_id,
    }


def _not_found(upn: str) -> dict:
    return {
        "error": {
            "code": "Request_ResourceNotFound",
            "message": f"Resource '{upn}' does not exist or one of its queried reference-property "
            "objects are not present.",
            "innerError": {
                "date": "2026-12-02T17:00:00",
                "request-id": "0d2f1e3c-1111-4c2b-9a77-5e6f7a8b9c0d",
                "client-request-id": "0d2f1e3c-1111-4c2b-9a77-5e6f7a8b9c0d",
            },
        }
    }


KNOWN = {"payments-ml@contoso.com": PAYMENTS_ID, "risk-modelling@contoso.com": RISK_ID}


def _graph_callback(seen: list[str]):
    def answer(request):
        assert request.headers["Authorization"] == "Bearer graph-t0k3n"
        upn = request.path_url.split("/v1.0/users/", 1)[1].split("?", 1)[0]
        seen.append(upn)
        if upn in KNOWN:
            return 200, {}, json.dumps(_user(upn, KNOWN[upn]))
        return 404, {}, json.dumps(_not_found(upn))

    return answer


def _directory(mapping=None, **kw) -> OwnerDirectory:
    return OwnerDirectory(
        mapping, graph="https://graph.microsoft.com", token=lambda scope: "graph-t0k3n", **kw
    )


@responses.activate
def test_graph_resolves_an_address_once_a_run_and_reports_the_unknown():
    seen: list[str] = []
    responses.add_callback("GET", re.compile(re.escape(GRAPH) + ".*"), callback=_graph_callback(seen))
    directory = _directory()
    assert directory.resolve("Payments-ML@contoso.com") == PAYMENTS_ID
    assert directory.resolve("payments-ml@contoso.com") == PAYMENTS_ID
    assert directory.resolve("nobody@contoso.com") is None
    assert directory.resolve("nobody@contoso.com") is None
    assert seen == ["payments-ml@contoso.com", "nobody@contoso.com"]  # cached per run
    assert directory.warnings() == [
        "owner nobody@contoso.com is not shown as a Purview contact: no such user in the tenant "
        "(Microsoft Graph: 404 Request_ResourceNotFound)"
    ]


@responses.activate
def test_the_config_mapping_comes_first_and_graph_can_be_off():
    directory = OwnerDirectory({"Risk-Modelling@contoso.com": RISK_ID})
    contacts = directory.contacts(
        {"owner": "risk-modelling@contoso.com, bob", "tags": {"experts": "payments-ml@contoso.com"}}
    )
    assert contacts == {"Owner": [{"id": RISK_ID, "info": "risk-modelling@contoso.com"}]}
    assert len(responses.calls) == 0
    assert "Graph lookups are off" in directory.warnings()[0]


@responses.activate
def test_graph_refusals_are_reported_not_raised():
    responses.get(
        re.compile(re.escape(GRAPH) + ".*"),
        status=403,
        json={"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges."}},
    )
    directory = _directory()
    assert directory.contacts({"owner": "payments-ml@contoso.com"}) == {}
    assert "HTTP 403 Authorization_RequestDenied" in directory.warnings()[0]
    assert "User.Read.All" in directory.warnings()[0]


def test_graph_follows_the_cloud_and_owners_are_parsed():
    assert graph_root("contoso.purview.azure.com") == "https://graph.microsoft.com"
    assert graph_root("contoso.purview.azure.cn") == "https://microsoftgraph.chinacloudapi.cn"
    assert graph_root("contoso.purview.azure.us:443") == "https://graph.microsoft.us"
    assert graph_root("10.1.2.3:8443") == "https://graph.microsoft.com"
    assert addresses("Ann <ann@x.com>; bob; ANN@x.com, c@y.org") == ["ann@x.com", "c@y.org"]
    assert addresses(None) == []
    assert user_path("ann@x.com") == "users/ann@x.com"
    assert user_path("ann_adatum.com#EXT#@contoso.com") == "users/ann_adatum.com%23EXT%23@contoso.com"
    assert user_path("$adele@contoso.com") == "users('$adele@contoso.com')"


@pytest.fixture
def token(monkeypatch):
    def get_token(*scopes, **kw):
        value = "graph-t0k3n" if scopes[0].startswith("https://graph.") else "t0k3n"
        return SimpleNamespace(token=value, expires_on=4102444800)

    credential = SimpleNamespace(get_token=get_token)
    monkeypatch.setattr("featmesh.connector.catalog.auth.azure_credential", lambda env=None: credential)
    monkeypatch.setattr("featmesh.connector.catalog.rest.time.sleep", lambda _s: None)


def test_a_purview_scan_writes_contacts_and_warns_about_the_unresolved(token, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seen: list[str] = []
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.add_callback("GET", re.compile(re.escape(GRAPH) + ".*"), callback=_graph_callback(seen))
    with mock, FakeAtlas.purview("contoso", mock=mock) as purview:
        result, summary = run_json(
            "scan", str(SAMPLES / "manifests"), "--catalog", "purview://contoso", "--json"
        )
        assert result.exit_code in (0, 1), summary
        store = purview._entity_json(
            purview._find(STORE, "featmesh://manifest/payments")  # type: ignore[arg-type]
        )
        assert store["contacts"] == {"Owner": [{"id": PAYMENTS_ID, "info": "payments-ml@contoso.com"}]}
        assert store["attributes"]["owner"] == "payments-ml@contoso.com"  # the readable one stays
        sets = [e for (t, _), e in purview.entities().items() if t == SET]
        risk = [e for e in sets if e["attributes"].get("owner") == "risk-modelling@contoso.com"]
        assert risk and all(e["contacts"]["Owner"][0]["id"] == RISK_ID for e in risk)
        assert sorted(seen) == sorted(set(seen))  # each address asked once
        warnings = " ".join(summary["warnings"]) if isinstance(summary["warnings"], list) else str(summary)
        assert "marketing-data@contoso.com is not shown as a Purview contact" in warnings
        assert "graph-t0k3n" not in str(summary)


def test_atlas_keeps_the_owner_attribute_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ATLAS_USERNAME", "featmesh")
    monkeypatch.setenv("ATLAS_PASSWORD", "pw")
    with FakeAtlas(auth=("featmesh", "pw")) as atlas:
        result, summary = run_json(
            "scan", str(SAMPLES / "manifests"), "--catalog", "atlas+https://atlas.example.com:21000", "--json"
        )
        assert result.exit_code in (0, 1), summary
        stores = [e for (t, _), e in atlas.entities().items() if t == STORE]
        assert stores and all("contacts" not in e and e["attributes"]["owner"] for e in stores)


def test_the_config_mapping_alone_serves_a_tenant_without_graph(token, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "featmesh.yaml"
    config.write_text(
        "version: 1\ncatalog:\n  uri: purview://contoso\n  owner_lookup: config\n  owners:\n"
        f"    Marketing-Data@contoso.com: {RISK_ID}\n"
        f"sources:\n  - uri: manifest:{SAMPLES / 'manifests'}\n"
    )
    with FakeAtlas.purview("contoso") as purview:
        result, summary = run_json("scan", "--config", str(config), "--json")
        assert result.exit_code in (0, 1), summary
        assert "Microsoft Graph not reachable" not in json.dumps(summary["warnings"])
        store = purview._entity_json(purview._find(STORE, "featmesh://manifest/marketing"))  # type: ignore[arg-type]
        assert store["contacts"] == {"Owner": [{"id": RISK_ID, "info": "marketing-data@contoso.com"}]}
        warnings = json.dumps(summary["warnings"])
        assert "payments-ml@contoso.com is not shown as a Purview contact: not in catalog.owners" in warnings


def _owners_config(tmp_path, owners: dict[str, str]):
    config = tmp_path / "featmesh.yaml"
    lines = "".join(f"    {a}: {i}\n" for a, i in owners.items())
    config.write_text(
        "version: 1\ncatalog:\n  uri: purview://contoso\n  owner_lookup: config\n  owners:\n"
        f"{lines}sources:\n  - uri: manifest:{SAMPLES / 'manifests'}\n"
    )
    return str(config)


def test_a_newly_mapped_owner_reaches_unchanged_entities_once_and_ui_contacts_stay(
    token, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    steward = {"id": "11111111-2222-4333-8444-555555555555", "info": "added in the portal"}
    with FakeAtlas.purview("contoso") as purview:
        first, summary = run_json(
            "scan", "--config", _owners_config(tmp_path, {"x@contoso.com": RISK_ID}), "--json"
        )
        assert first.exit_code in (0, 1), summary
        payments = purview._find(STORE, "featmesh://manifest/payments")
        assert payments is not None and payments.contacts is None
        payments.contacts = {"Expert": [steward]}  # a steward's edit in Purview's UI

        config = _owners_config(tmp_path, {"payments-ml@contoso.com": PAYMENTS_ID})
        result, summary = run_json("scan", "--config", config, "--json")
        assert result.exit_code in (0, 1), summary
        assert payments.contacts == {
            "Expert": [steward],
            "Owner": [{"id": PAYMENTS_ID, "info": "payments-ml@contoso.com"}],
        }
        assert summary["applied"]["updated"] >= 1

        again, summary = run_json("scan", "--config", config, "--json")
        assert again.exit_code in (0, 1), summary
        assert summary["applied"]["updated"] == 0 and summary["applied"]["created"] == 0

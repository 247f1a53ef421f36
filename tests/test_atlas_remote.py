"""The remote catalog layer on its own: URIs, credentials, endpoints, retries, secrets."""

from __future__ import annotations

import base64
import logging
from types import SimpleNamespace

import pytest
import responses

from featmesh.connector.catalog import open_catalog
from featmesh.connector.catalog.atlas import AtlasCatalog
from featmesh.connector.errors import CatalogError, UsageError
from tests.conftest import run

CANARY = "canary-Pa55word-7f3e"
ATLAS = "https://atlas.example.com:21000/api/atlas/v2"


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("featmesh.connector.catalog.rest.time.sleep", slept.append)
    return slept


@pytest.fixture
def atlas_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_USERNAME", "featmesh")
    monkeypatch.setenv("ATLAS_PASSWORD", CANARY)
    monkeypatch.chdir(tmp_path)


def test_atlas_needs_credentials_from_the_environment(monkeypatch):
    monkeypatch.delenv("ATLAS_USERNAME", raising=False)
    monkeypatch.delenv("ATLAS_PASSWORD", raising=False)
    with pytest.raises(UsageError, match="set ATLAS_USERNAME and ATLAS_PASSWORD"):
        open_catalog("atlas+https://atlas.example.com:21000")
    result = run("catalog", "export", "--catalog", "atlas+https://atlas.example.com:21000")
    assert result.exit_code == 2 and "ATLAS_PASSWORD" in result.stderr


def test_credentials_in_the_uri_are_refused(atlas_env):
    with pytest.raises(UsageError, match="must not hold credentials"):
        open_catalog(f"atlas+https://admin:{CANARY}@atlas.example.com")


@pytest.mark.parametrize(
    ("uri", "endpoint"),
    [
        ("atlas+https://atlas.example.com:21000", ATLAS),
        ("atlas+http://127.0.0.1:21000", "http://127.0.0.1:21000/api/atlas/v2"),
        ("atlas+https://gw.example.com/gateway/atlas", "https://gw.example.com/gateway/atlas/api/atlas/v2"),
    ],
)
def test_atlas_endpoints(atlas_env, uri, endpoint):
    catalog = open_catalog(uri)
    assert isinstance(catalog, AtlasCatalog) and catalog.rest.endpoint == endpoint


class FakeCredential:
    def __init__(self):
        self.scopes: list[str] = []

    def get_token(self, scope):
        self.scopes.append(scope)
        return SimpleNamespace(token="token-" + CANARY, expires_on=4102444800)


@responses.activate
def test_purview_uses_the_data_map_endpoint_and_an_entra_token(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    credential = FakeCredential()
    catalog = open_catalog("purview://contoso", credential=credential)
    assert catalog.rest.endpoint == "https://contoso.purview.azure.com/datamap/api/atlas/v2"
    responses.get(
        "https://contoso.purview.azure.com/datamap/api/atlas/v2/types/typedefs/headers",
        json=[{"guid": "t1", "name": "azure_datalake_gen2_path", "category": "ENTITY"}],
    )
    responses.get(
        "https://contoso.purview.azure.com/datamap/api/atlas/v2/entity/uniqueAttribute/type/azure_datalake_gen2_path",
        json={
            "entity": {
                "guid": "g1",
                "typeName": "azure_datalake_gen2_path",
                "status": "ACTIVE",
                "attributes": {},
            }
        },
    )
    assert catalog.exists("azure_datalake_gen2_path", "https://acct.dfs.core.windows.net/raw/x")
    assert credential.scopes == ["https://purview.azure.net/.default"]
    sent = responses.calls[1].request
    assert sent.headers["Authorization"] == "Bearer token-" + CANARY
    assert "attr%3AqualifiedName=https%3A%2F%2Facct.dfs.core.windows.net%2Fraw%2Fx" in sent.url


def test_purview_uri_must_name_an_account():
    with pytest.raises(UsageError, match="purview://ACCOUNT"):
        open_catalog("purview://", credential=FakeCredential())


@responses.activate
def test_throttling_is_retried_honouring_retry_after(atlas_env, no_sleep):
    url = f"{ATLAS}/types/typedefs"
    responses.get(url, status=429, headers={"Retry-After": "7"}, body="")
    responses.get(url, status=503, json={"errorCode": "ATLAS-503-00-001", "errorMessage": "busy"})
    responses.get(url, json={"entityDefs": []})
    catalog = open_catalog("atlas+https://atlas.example.com:21000")
    assert catalog.rest.request("GET", "/types/typedefs") == {"entityDefs": []}
    assert len(responses.calls) == 3
    assert no_sleep[0] == 7.0


@responses.activate
def test_errors_carry_status_and_atlas_code_but_never_the_secret(atlas_env, caplog):
    caplog.set_level(logging.DEBUG)
    responses.get(
        f"{ATLAS}/types/typedefs",
        status=401,
        json={"errorCode": "ATLAS-401-00-001", "errorMessage": "Authentication failed"},
    )
    catalog = open_catalog("atlas+https://atlas.example.com:21000")
    with pytest.raises(CatalogError) as err:
        catalog.rest.request("GET", "/types/typedefs")
    assert err.value.status == 401 and err.value.code == "ATLAS-401-00-001"
    sent = responses.calls[0].request.headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(f"featmesh:{CANARY}".encode()).decode()
    for text in (str(err.value), caplog.text):
        assert CANARY not in text and sent.split()[1] not in text


@responses.activate
def test_connection_errors_give_up_with_a_clear_message(atlas_env):
    import requests

    responses.get(f"{ATLAS}/types/typedefs", body=requests.ConnectionError("refused"))
    catalog = open_catalog("atlas+https://atlas.example.com:21000")
    catalog.rest.retry = type(catalog.rest.retry)(max_attempts=3, base_delay=0.01, deadline=5)
    with pytest.raises(CatalogError, match="GET /types/typedefs: ConnectionError: no answer"):
        catalog.rest.request("GET", "/types/typedefs")
    assert len(responses.calls) == 3

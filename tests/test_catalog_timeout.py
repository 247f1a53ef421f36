"""The total deadline of a run's catalog retries: ``--timeout`` / ``catalog.timeout``.

Retries of 429, 5xx and timeouts stop at the deadline with an error saying what was
waited for and how long; every wait is announced before it starts; a ``Retry-After``
beyond the deadline gives up at once. Atlas answers a throttled or failing call with
its ``errorCode`` body (Apache Atlas ``AtlasErrorCode``); ``Retry-After`` is RFC 9110
section 10.2.3 (delta-seconds or an HTTP date).
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import responses

from featmesh.connector.catalog import open_catalog
from featmesh.connector.config import load_config
from featmesh.connector.errors import CatalogError, InputError, UsageError
from tests.conftest import FakeTime, run

ATLAS = "https://atlas.example.com:21000/api/atlas/v2"
URI = "atlas+https://atlas.example.com:21000"
BUSY = {"errorCode": "ATLAS-503-00-001", "errorMessage": "busy"}


@pytest.fixture
def fake_time(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_USERNAME", "featmesh")
    monkeypatch.setenv("ATLAS_PASSWORD", "not-a-real-secret")
    monkeypatch.chdir(tmp_path)
    fake = FakeTime()
    monkeypatch.setattr("featmesh.connector.catalog.rest.time.sleep", fake.sleep)
    monkeypatch.setattr("featmesh.connector.catalog.rest._monotonic", fake.clock)
    return fake


@responses.activate
def test_retries_stop_at_the_deadline_with_what_was_waited_for(fake_time, caplog):
    caplog.set_level(logging.INFO)
    url = f"{ATLAS}/entity/bulk"
    responses.post(url, status=503, json=BUSY)
    catalog = open_catalog(URI, timeout=20)
    catalog.rest.retry = replace(catalog.rest.retry, jitter=0)  # the deadline stays the option's
    with pytest.raises(CatalogError) as err:
        catalog.rest.request("POST", "/entity/bulk", body={"entities": []})
    # backoff 1, 2, 4, 8 s (15 s); the next, 16 s, would pass 20 s
    assert fake_time.sleeps == [1.0, 2.0, 4.0, 8.0]
    assert sum(fake_time.sleeps) <= 20
    assert str(err.value) == "POST /entity/bulk: gave up after 15 s of retries (last: HTTP 503)"
    assert "waiting 8 s before retry 4 of POST /entity/bulk: HTTP 503" in caplog.text
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "waiting 1 s before retry 1 of POST /entity/bulk: HTTP 503",
        "waiting 2 s before retry 2 of POST /entity/bulk: HTTP 503",
        "waiting 4 s before retry 3 of POST /entity/bulk: HTTP 503",
        "waiting 8 s before retry 4 of POST /entity/bulk: HTTP 503",
    ]


@responses.activate
def test_the_deadline_is_for_the_whole_run_not_each_call(fake_time):
    url = f"{ATLAS}/types/typedefs"
    for _ in range(3):
        responses.get(url, status=429, headers={"Retry-After": "8"}, body="")
        responses.get(url, json={"entityDefs": []})
    catalog = open_catalog(URI, timeout=20)
    assert catalog.rest.request("GET", "/types/typedefs") == {"entityDefs": []}
    assert catalog.rest.request("GET", "/types/typedefs") == {"entityDefs": []}
    with pytest.raises(CatalogError, match=r"gave up after 0 s of retries \(last: HTTP 429, Retry-After 8\)"):
        catalog.rest.request("GET", "/types/typedefs")
    assert fake_time.sleeps == [8.0, 8.0]
    assert catalog.rest.retry_waited == 16.0


@responses.activate
def test_retry_after_beyond_the_deadline_gives_up_at_once(fake_time, caplog):
    caplog.set_level(logging.INFO)
    responses.get(f"{ATLAS}/types/typedefs", status=429, headers={"Retry-After": "600"}, body="")
    catalog = open_catalog(URI, timeout=120)
    with pytest.raises(CatalogError) as err:
        catalog.rest.request("GET", "/types/typedefs")
    assert fake_time.sleeps == []
    assert len(responses.calls) == 1
    assert str(err.value) == (
        "GET /types/typedefs: gave up after 0 s of retries (last: HTTP 429, Retry-After 600); "
        "the server asks for 600 s more, beyond the 120 s deadline"
    )


@responses.activate
def test_a_throttled_call_announces_its_wait_and_then_succeeds(fake_time, caplog):
    caplog.set_level(logging.WARNING)
    url = f"{ATLAS}/entity/bulk"
    responses.post(url, status=429, headers={"Retry-After": "8"}, body="")
    responses.post(url, json={"mutatedEntities": {}})
    catalog = open_catalog(URI)
    assert catalog.rest.request("POST", "/entity/bulk", body={"entities": []}) == {"mutatedEntities": {}}
    assert "waiting 8 s before retry 1 of POST /entity/bulk: HTTP 429, Retry-After 8" in caplog.text


def test_a_timeout_must_be_positive(fake_time):
    with pytest.raises(UsageError, match="positive"):
        open_catalog(URI, timeout=0)


def test_catalog_timeout_in_the_config(tmp_path):
    (tmp_path / "featmesh.yaml").write_text(
        "version: 1\ncatalog:\n  uri: atlas+https://atlas.example.com\n  timeout: 45\n"
        "sources:\n  - uri: manifest:features\n"
    )
    assert load_config(tmp_path / "featmesh.yaml").catalog_settings["timeout"] == 45.0
    (tmp_path / "bad.yaml").write_text("version: 1\ncatalog:\n  timeout: -1\nsources:\n  - uri: manifest:x\n")
    with pytest.raises(InputError, match=r"bad.yaml:3: catalog.timeout"):
        load_config(tmp_path / "bad.yaml")


def _check_timeout(monkeypatch, args):
    """Run ``featmesh check`` and return the timeout it opens the catalog with."""
    seen: dict[str, object] = {}

    def fake_open(uri, read_only=False, **options):
        seen.update(options, uri=uri)
        raise CatalogError("stop here")

    monkeypatch.setattr("featmesh.connector.catalog.open_catalog", fake_open)
    run("check", *args)
    return seen.get("timeout")


def test_the_option_overrides_the_config_key(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(Path(__file__).parents[1] / "samples" / "manifests", tmp_path / "features")
    (tmp_path / "featmesh.yaml").write_text(
        "version: 1\ncatalog:\n  timeout: 45\nsources:\n  - uri: manifest:features\n"
    )
    cat = ["--catalog", URI]
    assert _check_timeout(monkeypatch, ["--config", "featmesh.yaml", *cat]) == 45.0
    assert _check_timeout(monkeypatch, ["--config", "featmesh.yaml", "--timeout", "7", *cat]) == 7.0
    assert _check_timeout(monkeypatch, ["features", "--timeout", "7", *cat]) == 7.0
    assert _check_timeout(monkeypatch, ["features", *cat]) is None


def test_scan_takes_the_option_over_the_config_key(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "featmesh.yaml").write_text(
        "version: 1\ncatalog:\n  uri: atlas+https://atlas.example.com\n  timeout: 45\n"
        "sources:\n  - uri: manifest:features\n"
    )
    seen: list[object] = []

    def fake_run_scan(options):
        seen.append(options.catalog_options().get("timeout"))
        raise CatalogError("stop here")

    monkeypatch.setattr("featmesh.connector.commands.scan.run_scan", fake_run_scan)
    run("scan", "--config", "featmesh.yaml")
    run("scan", "--config", "featmesh.yaml", "--timeout", "9")
    assert seen == [45.0, 9.0]


def test_a_long_pacing_wait_is_announced(caplog):
    from featmesh.connector.catalog.rest import TokenBucket

    fake = FakeTime()
    bucket = TokenBucket(25, clock=fake.clock, sleep=fake.sleep)
    bucket.take(25)
    bucket.take(100)  # a bulk call of 100 operations after the bucket is empty: 1 s
    assert not caplog.records
    bucket.take(100)  # in debt by 75: 4 s to a full bucket
    assert fake.sleeps == [1.0, 4.0]
    assert "waiting 4 s to keep the catalog's pace of 25 operations a second" in caplog.text


def _contracts():
    """Two versions of the sample card-transactions contract (ODCS v3.0.2)."""
    folder = Path(__file__).parents[1] / "samples" / "contracts"
    return sorted(str(p) for p in folder.glob("*.yaml"))


def _always_busy():
    """Every call to the Atlas endpoint answers 503 (Atlas's ``ATLAS-503-00-001`` body)."""
    import re

    for method in (responses.GET, responses.POST):
        responses.add(method, re.compile(re.escape(ATLAS) + ".*"), status=503, json=BUSY)


@pytest.mark.parametrize(
    "command",
    [["impact", "featmesh://manifest/payments/transaction_aggregates@2"], ["contract", "diff"]],
    ids=["impact", "contract-diff"],
)
@responses.activate
def test_impact_and_contract_diff_keep_the_deadline(fake_time, command):
    """``impact`` and ``contract diff`` read the catalog's entities, so they take ``--timeout``
    too: an Atlas answering every call with 503 is given up on within it, saying so (exit 3)."""
    _always_busy()
    if command[0] == "contract":
        command = [*command, *_contracts()]
    result = run(*command, "--catalog", URI, "--timeout", "5")
    assert result.exit_code == 3, result.output
    assert re.search(
        r"GET /types/typedefs/headers: gave up after [0-9.]+ s of retries \(last: HTTP 503\)$",
        result.stderr.strip(),
    )
    assert 0 < sum(fake_time.sleeps) <= 5
    fake_time.sleeps.clear()
    run(*command, "--catalog", URI, "--timeout", "2")
    assert 0 < sum(fake_time.sleeps) <= 2


@responses.activate
def test_runs_and_report_never_wait_on_a_remote_catalog(fake_time, tmp_path):
    """``runs`` and ``report`` read the run history kept beside the repo
    (``.featmesh/history.db``), not the catalog: against an Atlas that answers nothing
    they make no call at all, so there is no wait for a ``--timeout`` to bound."""
    for command in (["runs"], ["report", "--format", "json"]):
        result = run(*command, "--catalog", URI)
        assert "no runs recorded in atlas+https://atlas.example.com:21000" in result.output
        assert fake_time.sleeps == []
    assert len(responses.calls) == 0

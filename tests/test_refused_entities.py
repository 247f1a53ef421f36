"""One entity the catalog refuses never blocks the others (issue 13, item 5).

Atlas answers a bulk write whose payload it refuses with the whole call rolled back: 400
with an ``ATLAS-400-00-*`` errorCode (an unknown attribute, invalid parameters), or 404
``ATLAS-404-00-007`` for failed value checks (``AtlasErrorCode`` in apache/atlas,
intg/src/main/java/org/apache/atlas/AtlasErrorCode.java). featmesh halves a refused batch
until the refused entities stand alone, writes the rest, and reports entities that refer
to a refused one instead of sending them.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from featmesh.connector.catalog.atlas import _refused
from featmesh.connector.errors import CatalogError
from tests.conftest import SAMPLE_MESH_ENTITIES, SAMPLES, run, run_json
from tests.fakeatlas import FakeAtlas

CANARY = "canary-s3cret-77ab"
ATLAS_URI = "atlas+https://atlas.example.com:21000"
BASE = "https://atlas.example.com:21000/api/atlas/v2"
MANIFESTS = SAMPLES / "manifests"
VOLATILE = ("runId", "evaluatedAt", "retiredAt", "revisionFirstRun", "revisionFirstSeen")  # of a run
SET = ("featmesh_feature_set", "featmesh://manifest/payments/merchant_risk_signals@1")
FEATURE = ("featmesh_feature", "featmesh://manifest/customer-360/customer_profile@3#age_years")
SET_FEATURES = (
    "chargeback_count_30d",
    "chargeback_rate_30d",
    "refund_count_30d",
    "refund_rate_30d",
    "gross_volume_30d",
    "volume_change_ratio",
    "days_active_90d",
    "is_high_risk_mcc",
)
REFUSED_LINES = [
    f"{SET[0]} {SET[1]}: the catalog refused it: HTTP 400 ATLAS-400-00-01A: invalid parameters: "
    "featmesh_feature_set.ttlSeconds: 99999999999999999999 is out of range for long",
    f"{FEATURE[0]} {FEATURE[1]}: the catalog refused it: HTTP 404 ATLAS-404-00-007: Invalid instance "
    "creation/updation parameters passed : ['featmesh_feature.maxValue: invalid value for type double']",
]
DEPENDENT_LINES = [
    f"featmesh_feature {SET[1]}#{name}: not written: it refers to {SET[0]} {SET[1]}, which was not written"
    for name in SET_FEATURES
] + [
    f"featmesh_feature_pipeline {SET[1]}/pipeline/source: not written: it refers to {SET[0]} {SET[1]}, "
    "which was not written"
]


@pytest.fixture(autouse=True)
def setting(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_USERNAME", "featmesh")
    monkeypatch.setenv("ATLAS_PASSWORD", CANARY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("featmesh.connector.catalog.rest.time.sleep", lambda _s: None)


def _scan(*args: str) -> tuple[int, dict]:
    result, summary = run_json("scan", *args, "--catalog", ATLAS_URI, "--json")
    return result.exit_code, summary


def _refusing(atlas: FakeAtlas) -> None:
    atlas.refuse(
        *SET,
        "INVALID_PARAMETERS",
        "featmesh_feature_set.ttlSeconds: 99999999999999999999 is out of range for long",
    )
    atlas.refuse(
        *FEATURE, "INSTANCE_CRUD_INVALID_PARAMS", ["featmesh_feature.maxValue: invalid value for type double"]
    )


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> dict:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ATLAS_USERNAME", "featmesh")
        patch.setenv("ATLAS_PASSWORD", CANARY)
        # its own folder: the run history (.featmesh/history.db) of the working directory
        # would otherwise carry revisions over from earlier runs
        patch.chdir(tmp_path_factory.mktemp("clean"))
        with FakeAtlas(BASE, auth=("featmesh", CANARY)) as clean:
            assert _scan(str(MANIFESTS))[0] == 0
            return {"snapshot": clean.snapshot(drop_attributes=VOLATILE), "keys": set(clean.entities())}


@pytest.mark.parametrize("batch_size", ["100", "10"])
def test_refused_entities_are_isolated_and_the_rest_is_written(expected, batch_size):
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as atlas:
        _refusing(atlas)
        code, summary = _scan(str(MANIFESTS), "--batch-size", batch_size)
        assert code == 3
        assert summary["status"] == "partial"
        # each refused entity once, with the catalog's reason; its dependents named, never a 404
        assert sorted(summary["failures"]) == sorted(REFUSED_LINES + DEPENDENT_LINES)
        unwritten = {SET, FEATURE} | {("featmesh_feature", f"{SET[1]}#{n}") for n in SET_FEATURES}
        unwritten.add(("featmesh_feature_pipeline", f"{SET[1]}/pipeline/source"))
        assert set(atlas.entities()) == expected["keys"] - unwritten  # everything else is written
        # requests: one per batch, plus at most two per halving for each refused entity
        size = int(batch_size)
        batches = math.ceil(SAMPLE_MESH_ENTITIES / size)
        bound = batches + 2 * 2 * math.ceil(math.log2(size))
        assert batches < atlas.count("POST", "/entity/bulk") <= bound

        atlas.allow(*SET)
        atlas.allow(*FEATURE)
        result, resumed = run_json("scan", "--resume", "--catalog", ATLAS_URI, "--json")
        assert result.exit_code == 0, resumed
        assert resumed["resumed_from"] == summary["run_id"]
        assert resumed["plan"]["create"] == len(unwritten)
        assert atlas.snapshot(drop_attributes=VOLATILE) == expected["snapshot"]  # no duplicates
        code, again = _scan(str(MANIFESTS))
        assert code == 0 and again["plan"]["unchanged"] == SAMPLE_MESH_ENTITIES


def test_a_refusal_that_persists_is_reported_again_without_duplicates(expected):
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as atlas:
        _refusing(atlas)
        assert _scan(str(MANIFESTS))[0] == 3
        held = len(atlas.entities())
        code, again = _scan(str(MANIFESTS))
        assert code == 3
        assert sorted(again["failures"]) == sorted(REFUSED_LINES + DEPENDENT_LINES)
        assert again["plan"]["create"] == SAMPLE_MESH_ENTITIES - held
        assert len(atlas.entities()) == held


def test_a_refused_reason_is_scrubbed_of_secrets():
    with FakeAtlas(BASE, auth=("featmesh", CANARY)) as atlas:
        atlas.refuse(*FEATURE, "INVALID_PARAMETERS", f"credentials featmesh:{CANARY} are not valid here")
        result = run("scan", str(MANIFESTS), "--catalog", ATLAS_URI, "--json")
        assert result.exit_code == 3
        assert CANARY not in result.stdout + result.stderr
        assert (
            f"{FEATURE[0]} {FEATURE[1]}: the catalog refused it: HTTP 400 ATLAS-400-00-01A" in result.stdout
        )
        assert len(atlas.entities()) == SAMPLE_MESH_ENTITIES - 1


@pytest.mark.parametrize(
    ("status", "code", "refused"),
    [
        (400, "ATLAS-400-00-023", True),  # UNKNOWN_ATTRIBUTE
        (400, "ATLAS-400-00-01A", True),  # INVALID_PARAMETERS
        (404, "ATLAS-404-00-007", True),  # INSTANCE_CRUD_INVALID_PARAMS
        (404, "ATLAS-404-00-00A", True),  # REFERENCED_ENTITY_NOT_FOUND
        (404, None, False),  # no such route
        (400, "BadRequest", False),  # Purview's envelope: too many entities for one call
        (401, None, False),
        (403, "Forbidden", False),
        (429, "TooManyRequests", False),
        (503, None, False),
        (None, None, False),  # no answer
    ],
)
def test_what_counts_as_a_refused_payload(status, code, refused):
    assert _refused(CatalogError("POST /entity/bulk: ...", status=status, code=code)) is refused


def test_purview_isolates_a_refused_entity_too(monkeypatch):
    access = SimpleNamespace(token="t0k3n", expires_on=4102444800)
    credential = SimpleNamespace(get_token=lambda *scopes, **kw: access)
    monkeypatch.setattr("featmesh.connector.catalog.auth.azure_credential", lambda env=None: credential)
    with FakeAtlas.purview("contoso") as purview:
        purview.refuse(*FEATURE, "UNKNOWN_ATTRIBUTE", "maxValue", FEATURE[0])
        result, summary = run_json("scan", str(MANIFESTS), "--catalog", "purview://contoso", "--json")
        assert result.exit_code == 3
        assert summary["failures"] == [
            f"{FEATURE[0]} {FEATURE[1]}: the catalog refused it: HTTP 400 ATLAS-400-00-023: "
            f"Attribute maxValue not found for type {FEATURE[0]}"
        ]
        assert len(purview.entities()) == SAMPLE_MESH_ENTITIES - 1

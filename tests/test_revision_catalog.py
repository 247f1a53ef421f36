"""Each set's revision in the catalog and the reports, and models trained on an older one.

A revision names the definition a set has (``revision``: 12 hex digits of the definition's
hash, its readers left out), with the run and time it was first seen and the revisions
before it. featmesh writes it on the feature set entity (local catalog, Atlas, Purview:
optional attributes, which Atlas accepts on an existing type), shows it in the HTML and
Markdown reports and ``featmesh runs``, and a consumer naming the revision it was trained
on (``consumers: reads: revision:``) gets ``consumer-on-old-revision`` once the set's
definition has changed since.
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from featmesh.connector.model import FeatureSet
from featmesh.typedefs import load_typedefs, validate_document
from featmesh.typedefs.diff import refused_changes
from tests.conftest import SAMPLES, run, run_json
from tests.fakeatlas import FakeAtlas

FEATHR = Path(__file__).parent / "realworld" / "feathr" / "swa-extractor"
SET_TYPE = "featmesh_feature_set"
SWA = "featmesh://feathr/ws/swaAnchor2@latest"
NEW_ATTRIBUTES = {
    SET_TYPE: {"revision", "revisionHash", "revisionFirstSeen", "revisionFirstRun", "previousRevisions"},
    "featmesh_model": {"featureSetRevisions"},
}


def _scan(folder: Path, catalog: str, *more: str) -> dict:
    result, summary = run_json("scan", f"feathr:{folder}", "--catalog", catalog, "--json", *more)
    assert result.exit_code in (0, 1), result.stderr
    return summary


def _held(db: Path, qn: str) -> dict:
    exported = json.loads(run("catalog", "export", "--catalog", f"local:{db}").stdout)["entities"]
    return next(e["attributes"] for e in exported if e["attributes"]["qualifiedName"] == qn)


def _edit(folder: Path) -> None:
    conf = folder / "swaWithExtractor.conf"
    conf.write_text(conf.read_text().replace("f1Sum: {", "f1Total: {"))


def test_the_local_catalog_holds_each_sets_revision_and_a_rescan_writes_nothing(tmp_path: Path) -> None:
    folder, db = tmp_path / "ws", tmp_path / "c.db"
    shutil.copytree(FEATHR, folder)
    first = _scan(folder, f"local:{db}")
    revision = first["revisions"][SWA]
    held = _held(db, SWA)
    assert held["revision"] == revision["id"] and held["revisionHash"].startswith(revision["id"])
    assert held["revisionFirstRun"] == first["run_id"] == revision["first_run"]
    assert held["revisionFirstSeen"] == revision["first_seen"]
    assert "previousRevisions" not in held  # none yet
    # last seen changes on every scan, so it stays in the run record: a rescan writes nothing
    again = _scan(folder, f"local:{db}")
    assert again["plan"]["update"] == again["plan"]["create"] == 0
    assert again["revisions"][SWA]["last_run"] == again["run_id"]
    _edit(folder)
    third = _scan(folder, f"local:{db}")
    changed = _held(db, SWA)
    assert changed["revision"] == third["revisions"][SWA]["id"] != revision["id"]
    assert changed["revisionFirstRun"] == third["run_id"]
    assert changed["previousRevisions"] == [revision["id"]]


def test_a_scan_of_other_stores_in_between_keeps_the_revision(tmp_path: Path) -> None:
    """The last scan's record holds only the stores it read; the catalog holds the rest."""
    db = tmp_path / "c.db"
    for name in ("ws", "other"):
        shutil.copytree(FEATHR, tmp_path / name)
    first = _scan(tmp_path / "ws", f"local:{db}")["revisions"][SWA]
    _scan(tmp_path / "other", f"local:{db}")
    again = _scan(tmp_path / "ws", f"local:{db}")
    assert again["revisions"][SWA]["first_run"] == first["first_run"]
    assert again["plan"]["update"] == 0
    _edit(tmp_path / "ws")
    changed = _scan(tmp_path / "ws", f"local:{db}")
    assert _held(db, SWA)["previousRevisions"] == [first["id"]] != [changed["revisions"][SWA]["id"]]


@pytest.fixture
def atlas_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_USERNAME", "featmesh")
    monkeypatch.setenv("ATLAS_PASSWORD", "not-a-secret-71")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("featmesh.connector.catalog.rest.time.sleep", lambda _s: None)


def test_atlas_holds_the_revision_on_the_feature_set(atlas_env, tmp_path: Path) -> None:
    """The fake refuses an attribute its type does not define (ATLAS-400-00-023), so the
    typedefs featmesh syncs first must carry the new attributes."""
    base = "https://atlas.example.com:21000/api/atlas/v2"
    shutil.copytree(FEATHR, tmp_path / "ws")
    with FakeAtlas(base, auth=("featmesh", "not-a-secret-71")) as atlas:
        summary = _scan(tmp_path / "ws", "atlas+https://atlas.example.com:21000")
        assert summary["status"] == "ok", summary["failures"]
        entity = atlas.entity(SET_TYPE, SWA)
        assert entity is not None
        assert entity["attributes"]["revision"] == summary["revisions"][SWA]["id"]
        assert entity["attributes"]["revisionFirstRun"] == summary["run_id"]
        names = {a["name"] for a in atlas.typedef(SET_TYPE)["attributeDefs"]}
        assert NEW_ATTRIBUTES[SET_TYPE] <= names


def test_purview_holds_the_revision_on_the_feature_set(monkeypatch, tmp_path: Path) -> None:
    access = SimpleNamespace(token="t0k3n", expires_on=4102444800)
    credential = SimpleNamespace(get_token=lambda *scopes, **kw: access)
    monkeypatch.setattr("featmesh.connector.catalog.auth.azure_credential", lambda env=None: credential)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("featmesh.connector.catalog.rest.time.sleep", lambda _s: None)
    shutil.copytree(FEATHR, tmp_path / "ws")
    with FakeAtlas.purview("contoso") as purview:
        summary = _scan(tmp_path / "ws", "purview://contoso")
        assert summary["status"] == "ok", summary["failures"]
        entity = purview.entity(SET_TYPE, SWA)
        assert entity is not None and entity["attributes"]["revision"] == summary["revisions"][SWA]["id"]


def test_the_new_attributes_are_changes_atlas_accepts_on_existing_types() -> None:
    new = load_typedefs()
    validate_document(new)
    old = copy.deepcopy(new)
    for body in old["entityDefs"]:
        added = NEW_ATTRIBUTES.get(body["name"], set())
        body["attributeDefs"] = [a for a in body["attributeDefs"] if a["name"] not in added]
    assert sum(len(b["attributeDefs"]) for b in new["entityDefs"]) - sum(
        len(b["attributeDefs"]) for b in old["entityDefs"]
    ) == sum(len(v) for v in NEW_ATTRIBUTES.values())
    assert refused_changes(old, new) == []


def test_a_new_reader_leaves_the_revision() -> None:
    """A Feast feature service or a model added later names the set as a reader: its
    content hash changes (the catalog's ``consumers`` attribute must be written), its
    revision does not (the definition is the same)."""
    fs = FeatureSet(store_kind="feast", store="p", name="driver_stats", consumers=("svc_a",))
    read = replace(fs, consumers=("svc_a", "svc_b"))
    assert read.content_hash != fs.content_hash
    assert read.revision == fs.revision and read.revision_hash == fs.revision_hash
    alone = replace(fs, consumers=())
    assert alone.revision_hash == alone.content_hash  # a set nobody reads: one hash


# --------------------------------------------------------------------------- models


def _shop(folder: Path, *, features: str, revision: str | None) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "shop.yaml").write_text(
        "apiVersion: featmesh/v1\n"
        "store: {name: shop, domain: shop, owner: shop-ml@contoso.com}\n"
        "entities:\n  - {name: customer, join_keys: [{name: customer_id, dtype: string}]}\n"
        "feature_sets:\n"
        "  - name: basket_stats\n"
        "    description: Basket statistics of a customer.\n"
        "    entities: [customer]\n"
        "    timestamp_field: event_ts\n"
        "    ttl: 2d\n"
        "    sources: [{kind: delta, uri: main.shop.baskets}]\n"
        f"    features: [{features}]\n"
    )
    pin = f", revision: {revision}" if revision else ""
    (folder / "models.yaml").write_text(
        "apiVersion: featmesh/v1\n"
        "store: {name: shop-models, domain: shop, owner: shop-ml@contoso.com}\n"
        "consumers:\n"
        "  - name: basket-model\n"
        "    version: 3\n"
        f"    reads: [{{feature_set: shop/basket_stats{pin}}}]\n"
    )


SIZE = "{name: basket_size, dtype: int64, description: Items in the basket.}"
VALUE = "{name: basket_value_eur, dtype: float64, description: Value of the basket in euros.}"
BASKET = "featmesh://manifest/shop/basket_stats@latest"


def _rule(doc: dict, rule: str) -> list[dict]:
    return [r for r in doc["results"] if r["rule"] == rule and r["target"] == BASKET]


def test_a_model_trained_on_an_older_revision_is_a_finding(tmp_path: Path) -> None:
    folder, db = tmp_path / "mesh", tmp_path / "c.db"
    _shop(folder, features=SIZE, revision=None)
    first = run_json("scan", str(folder), "--catalog", f"local:{db}", "--json")[1]
    trained = first["revisions"][BASKET]["id"]
    _shop(folder, features=SIZE, revision=trained)
    doc = json.loads(run("check", str(folder), "--format", "json").stdout)
    assert [r["state"] for r in _rule(doc, "consumer-on-old-revision")] == ["passed"]
    assert doc["sets"][BASKET]["revision"] == trained  # check --json names it as scan does
    # the set gains a feature: no version (the store has none), a new definition
    _shop(folder, features=f"{SIZE}, {VALUE}", revision=trained)
    doc = json.loads(run("check", str(folder), "--format", "json").stdout)
    (found,) = _rule(doc, "consumer-on-old-revision")
    assert found["state"] == "failed" and found["severity"] == "warning"
    assert f"model basket-model@3 (shop-ml@contoso.com) on {trained}" in found["message"]
    # the scheduled scan flags it too, and the report names the revision the model is on
    scanned = run_json("scan", str(folder), "--catalog", f"local:{db}", "--json")[1]
    now = scanned["revisions"][BASKET]["id"]
    assert now != trained and now in found["message"]
    report = json.loads(run("report", "--catalog", f"local:{db}", "--format", "json").stdout)
    basket = next(s for s in report["sets"] if s["qualified_name"] == BASKET)
    assert basket["revision"]["id"] == now and basket["revision"]["earlier"] == [trained]
    assert basket["revision"]["changed"] is True
    (model,) = basket["consumers"]
    assert model["revision"] == trained and model["outdated"] is True
    rules = {f["rule"] for f in basket["findings"]}
    assert "consumer-on-old-revision" in rules


def test_check_catalog_flags_a_published_model_trained_on_the_old_definition(tmp_path: Path) -> None:
    """The model team published its model naming the revision; the shop team changes the
    set in its own repo and checks it against the catalog."""
    mesh, db = tmp_path / "mesh", tmp_path / "c.db"
    _shop(mesh, features=SIZE, revision=None)
    trained = run_json("scan", str(mesh), "--catalog", f"local:{db}", "--json")[1]["revisions"][BASKET]["id"]
    _shop(mesh, features=SIZE, revision=trained)
    assert run("scan", str(mesh), "--catalog", f"local:{db}").exit_code == 0
    model = _held(db, "featmesh://manifest/shop-models/consumer/model/basket-model@3")
    assert model["featureSetRevisions"] == {BASKET: trained}
    team = tmp_path / "shop-repo"
    _shop(team, features=f"{SIZE}, {VALUE}", revision=None)
    (team / "models.yaml").unlink()  # the shop team's repo holds its own store only
    out = run("check", str(team), "--catalog", f"local:{db}", "--format", "json")
    (found,) = _rule(json.loads(out.stdout), "consumer-on-old-revision")
    assert found["state"] == "failed" and trained in found["message"]


def test_a_revision_that_is_not_hex_is_an_input_error(tmp_path: Path) -> None:
    _shop(tmp_path, features=SIZE, revision="latest")
    result = run("check", str(tmp_path / "models.yaml"))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "models.yaml:6" in result.stderr and "revision" in result.stderr


# --------------------------------------------------------------------------- reports


def test_reports_and_runs_show_the_revisions(tmp_path: Path) -> None:
    folder, db = tmp_path / "ws", tmp_path / "c.db"
    shutil.copytree(FEATHR, folder)
    first = _scan(folder, f"local:{db}")["revisions"][SWA]["id"]
    _edit(folder)
    second = _scan(folder, f"local:{db}")
    now = second["revisions"][SWA]["id"]
    markdown = run("report", "--catalog", f"local:{db}", "--format", "markdown").stdout
    section = markdown.split("### Definitions changed in this run", 1)[1]
    assert f"| swaAnchor2@latest | `{now}` | `{first}` |" in section
    html = run("report", "--catalog", f"local:{db}", "--format", "html", "-o", str(tmp_path / "r.html"))
    assert html.exit_code == 0, html.stderr
    page = (tmp_path / "r.html").read_text()
    assert f">{now}</span>" in page and f'was <span class="mono">{first}</span>' in page
    rows = run_json("runs", "--catalog", f"local:{db}", "--json")[1]
    newest, older = rows[0], rows[1]
    assert newest["revisions"][SWA] == now and older["revisions"][SWA] == first
    assert newest["changed_revisions"][SWA] == {"id": now, "was": first}
    assert older["changed_revisions"] == {}  # first seen there, nothing replaced
    text = run("runs", "--catalog", f"local:{db}").stdout.splitlines()
    assert text[0].split()[-1] == "changed"
    assert text[1].split()[-1] == str(len(newest["changed_revisions"]))


def test_the_sample_model_names_the_definition_it_was_trained_on() -> None:
    """samples/models: credit-limit-model names the revision of transaction_aggregates@2;
    a change to that set in samples/manifests needs the sample's revision updated."""
    out = run("check", str(SAMPLES / "manifests"), str(SAMPLES / "models"), "--format", "json")
    doc = json.loads(out.stdout)
    target = "featmesh://manifest/payments/transaction_aggregates@2"
    found = [r for r in doc["results"] if r["rule"] == "consumer-on-old-revision" and r["target"] == target]
    assert [r["state"] for r in found] == ["passed"]
    assert doc["sets"][target]["revision"] in (SAMPLES / "models" / "risk-models.yaml").read_text()

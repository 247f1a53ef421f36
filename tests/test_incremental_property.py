"""Property: after any sequence of edits, an incremental scan gives exactly what ``--full``
gives from the same catalog and history (findings, scores, per-set records).

Each step applies one random edit to a copy of the sample mesh (add, change or remove a
feature set, add or remove a waiver, switch the policy packs), copies the catalog, and
scans it twice: incrementally, and with ``--full`` on the copy. The sample models are
scanned too, unchanged, so the consumer rule's findings (a model reading a set that an
edit made non-compliant, or removed) must also agree; a "split" edit switches to scanning
the sets and the models in two runs, so the models are judged on the recorded history.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featmesh.connector.catalog.local import LocalCatalog
from tests.conftest import SAMPLES, run_json

PARENTS = {"customer_profile", "transaction_aggregates"}  # risk-shared derives from them
PACK = """\
apiVersion: featmesh/v1
kind: PolicyPack
name: team
version: 1
extends: [mesh-baseline]
overrides:
  tag-vocabulary: {enabled: false}
rules:
  - id: ttl-max-7d
    check: ttl_declared
    severity: warning
    params: {max_seconds: 604800}
"""

edits = st.lists(
    st.tuples(
        st.sampled_from(["add", "change", "remove", "waive", "unwaive", "packs", "split"]),
        st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=4,
)


class Mesh:
    def __init__(self, root: Path):
        self.root = root
        self.manifests = root / "m"
        shutil.copytree(SAMPLES / "manifests", self.manifests)
        self.models = root / "models"  # never edited: its models are judged on the sets they read
        shutil.copytree(SAMPLES / "models", self.models)
        self.waivers = root / "waivers.yaml"
        shutil.copy(SAMPLES / "waivers.yaml", self.waivers)
        self.pack = root / "team.yaml"
        self.pack.write_text(PACK)
        self.packs: list[str] = ["mesh-baseline"]
        self.added = 0
        self.split = False

    def _docs(self) -> list[tuple[Path, dict[str, Any]]]:
        return [(p, yaml.safe_load(p.read_text())) for p in sorted(self.manifests.glob("*.yaml"))]

    def _sets(self) -> list[tuple[Path, dict[str, Any], dict[str, Any]]]:
        return [(p, doc, fs) for p, doc in self._docs() for fs in doc.get("feature_sets", [])]

    def apply(self, kind: str, n: int) -> None:
        sets = self._sets()
        path, doc, fs = sets[n % len(sets)]
        if kind == "add":
            self.added += 1
            new = json.loads(json.dumps(fs))
            new["name"] = f"{fs['name']}_copy{self.added}"
            new.pop("derived_from", None)
            new["features"] = new["features"][: 1 + n % len(new["features"])]
            if n % 2:
                new["features"][0]["dtype"] = "string"  # a meaning conflict with the original
            doc["feature_sets"].append(new)
        elif kind == "change":
            choice = n % 4
            if choice == 0:
                fs["ttl"] = f"{1 + n % 40}d"
            elif choice == 1:
                fs["description"] = f"Revised description {n}."
            elif choice == 2:
                fs["features"][n % len(fs["features"])]["dtype"] = ["int64", "string", "float32"][n % 3]
            else:
                fs.pop("owner", None) if "owner" in fs else fs.update(owner="nobody")
        elif kind == "remove":
            if fs["name"] in PARENTS or len(doc["feature_sets"]) == 1:
                return
            doc["feature_sets"].remove(fs)
        elif kind in ("waive", "unwaive"):
            waivers = yaml.safe_load(self.waivers.read_text())
            if kind == "unwaive":
                if waivers["waivers"]:
                    waivers["waivers"].pop(n % len(waivers["waivers"]))
            else:
                store = doc["store"]["name"]
                rule = ["set-description", "ttl-declared", "owner-principal", "version-present"][n % 4]
                waivers["waivers"].append(
                    {
                        "rule": rule,
                        "target": f"featmesh://manifest/{store}/{fs['name']}@*",
                        "owner": "team@contoso.com",
                        "reason": "Property test waiver.",
                        "expires": "2026-12-31",
                    }
                )
            self.waivers.write_text(yaml.safe_dump(waivers, sort_keys=False))
            return
        elif kind == "split":
            self.split = not self.split
            return
        else:
            self.packs = ["mesh-baseline"] if len(self.packs) > 1 else ["mesh-baseline", str(self.pack)]
            return
        path.write_text(yaml.safe_dump(doc, sort_keys=False))

    def scan(self, db: Path, *extra: str) -> dict[str, Any]:
        """One scan of the sets and the models, or (split) one of each: what both recorded."""
        if not self.split:
            return self._scan(db, [str(self.manifests), f"manifest:{self.models}"], extra)
        return {
            "sets": self._scan(db, [str(self.manifests)], extra),
            "models": self._scan(db, [f"manifest:{self.models}"], extra),
        }

    def _scan(self, db: Path, sources: list[str], extra: tuple[str, ...]) -> dict[str, Any]:
        packs = [a for p in self.packs for a in ("--policy", p)]
        result, summary = run_json(
            "scan", *sources, "--catalog", f"local:{db}", "--json",
            "--waivers", str(self.waivers), *packs, *extra,
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        catalog = LocalCatalog(db, read_only=True)
        try:
            runs = catalog.runs(100)
            record = runs[0]["evaluation"]
            classifications = catalog.db.execute("SELECT * FROM classifications ORDER BY 1, 2, 3").fetchall()
            entities = _entities(catalog)
        finally:
            catalog.close()
        sets = {qn: _comparable(m) for qn, m in record["sets"].items()}
        return {
            "findings": sorted(_by_position(json.dumps(f, sort_keys=True), runs) for f in record["findings"]),
            "score": record["score"],
            "counts": summary["findings"],
            "sets": sets,
            "retired": record.get("retired"),
            "classifications": len(classifications),
            "entities": entities,
        }


VOLATILE = frozenset({"evaluatedAt", "runId", "revisionFirstSeen", "revisionFirstRun"})
"""What differs between two runs from the same state: when they ran, and which run it was."""


def _entities(catalog: LocalCatalog) -> dict[str, Any]:
    """What the catalog holds, by (typeName, qualifiedName), without guids, timestamps and
    the attributes naming the run: two scans that agree leave equal catalogs."""

    def steady(text: str) -> Any:
        value = json.loads(text)
        return {k: v for k, v in value.items() if k not in VOLATILE} if isinstance(value, dict) else value

    db = catalog.db
    names = {
        guid: f"{t} {qn}"
        for guid, t, qn in db.execute("SELECT guid, type_name, qualified_name FROM entities")
    }
    out: dict[str, Any] = {}
    for guid, _, _, attributes, relationships, *_ in db.execute("SELECT * FROM entities"):
        out[names[guid]] = {"attributes": steady(attributes), "relationships": steady(relationships)}
    for guid, name, attributes in db.execute(
        "SELECT entity_guid, type_name, attributes FROM classifications"
    ):
        out[names[guid]].setdefault("classifications", {})[name] = steady(attributes)
    for guid, name, attributes in db.execute("SELECT entity_guid, name, attributes FROM business_metadata"):
        out[names[guid]].setdefault("business", {})[name] = steady(attributes)
    links = db.execute("SELECT relationship_type, from_guid, attribute, to_guid FROM relationships")
    out["relationships"] = sorted(f"{names[a]} {attr} {names[b]} ({kind})" for kind, a, attr, b in links)
    return out


def _by_position(text: str, runs: list[dict[str, Any]]) -> str:
    """``text`` with each run id named by the run's place in the history: the scans of the
    two copies of a catalog get other ids for the same runs (a message may name a run)."""
    for place, run in enumerate(reversed(runs)):
        text = text.replace(str(run["run_id"]), f"<run {place}>")
    return text


RUN_STAMPS = ("first_seen", "first_run", "last_seen", "last_run")


def _comparable(entry: dict[str, Any]) -> dict[str, Any]:
    """A set's record without what differs between any two runs: the data fingerprint, and
    when and in which run its revision was seen (a set added now is first seen by each run)."""
    out = {k: v for k, v in entry.items() if k != "data_fingerprint"}
    if isinstance(out.get("revision"), dict):
        out["revision"] = {k: v for k, v in out["revision"].items() if k not in RUN_STAMPS}
    return out


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=edits)
def test_incremental_equals_full_after_random_edits(tmp_path_factory, steps):
    root = tmp_path_factory.mktemp("prop")
    mesh = Mesh(root)
    db = root / "c.db"
    mesh.scan(db)
    for i, (kind, n) in enumerate(steps):
        mesh.apply(kind, n)
        twin = root / f"full{i}.db"
        shutil.copy(db, twin)
        incremental = mesh.scan(db)
        full = mesh.scan(twin, "--full")
        assert incremental == full, (steps[: i + 1], kind)

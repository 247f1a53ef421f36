"""One store read from two checkouts (two clones, a CI runner and a laptop) is one store.

Every reader is given the same fixture repo copied into two different folders; the
qualifiedNames of everything mapped (stores, sets, features, entities, data products,
pipelines), the definitions' hashes and every attribute but the store's own ``uri`` (the
location the scan was given) come out identical. A file of the repo is named by its store
and its path inside the repo; where it is on this machine is only the source's
``location``, which profiling opens.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from featmesh.connector.mapping.entities import DATA_PRODUCT, STORE, map_mesh
from featmesh.connector.model import FeatureStore, to_dict
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import parse_source, read_source

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _feast(into: Path) -> str:
    shutil.copytree(TESTS / "fixtures" / "feast" / "all_sources", into / "repo")
    return f"feast:{into / 'repo'}"


def _manifest(into: Path) -> str:
    # the fraud lab's manifest reads ../data/*.parquet beside it, as in samples/
    shutil.copytree(ROOT / "samples" / "lab", into / "samples" / "lab")
    shutil.copytree(ROOT / "samples" / "data", into / "samples" / "data")
    return f"manifest:{into / 'samples' / 'lab'}"


def _feathr(into: Path) -> str:
    # swaWithExtractor.conf reads "slidingWindowAgg/localSWAAnchorTestFeatureData/daily"
    shutil.copytree(TESTS / "realworld" / "feathr" / "swa-extractor", into / "workspace")
    return f"feathr:{into / 'workspace'}"


def _azureml(into: Path) -> str:
    root = into / "retail_fs"
    shutil.copytree(TESTS / "fixtures" / "azureml" / "retail_fs", root)
    spec = root / "featuresets" / "account_profile" / "spec" / "FeatureSetSpec.yaml"
    text = spec.read_text()
    assert "azureml:account_profiles_table:4" in text
    # a spec whose source is a folder of Parquet files kept with the store
    spec.write_text(
        text.replace("type: mltable", "type: parquet").replace(
            "azureml:account_profiles_table:4", "../../../data/accounts/*.parquet"
        )
    )
    return f"azureml:{root}"


READERS: dict[str, Callable[[Path], str]] = {
    "feast": _feast,
    "manifest": _manifest,
    "feathr": _feathr,
    "azureml": _azureml,
}


def _read(source: str) -> list[FeatureStore]:
    spec = parse_source(source)
    report = SourceReport(uri=spec.uri, kind=spec.kind)
    stores = read_source(spec, report)
    assert report.status != "failed", report.error
    return stores


def _entities(stores: list[FeatureStore]) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for entity in map_mesh(stores).entities:
        attributes = dict(entity["attributes"])
        if entity["typeName"] == STORE:
            attributes.pop("uri")  # the location the scan was given
        out[(entity["typeName"], attributes["qualifiedName"])] = {**entity, "attributes": attributes}
    return out


@pytest.mark.parametrize("kind", sorted(READERS))
def test_two_checkouts_of_one_repo_map_to_the_same_names(kind: str, tmp_path: Path) -> None:
    read = [_read(READERS[kind](tmp_path / folder)) for folder in ("clone-a", "ci-runner/b")]
    one, two = (_entities(stores) for stores in read)
    assert sorted(one) == sorted(two)
    for key, entity in one.items():
        assert json.dumps(entity, sort_keys=True) == json.dumps(two[key], sort_keys=True), key
    hashes = [
        sorted(
            (fs.qualified_name, fs.content_hash, fs.revision_hash) for s in stores for fs in s.feature_sets
        )
        for stores in read
    ]
    assert hashes[0] == hashes[1]
    # no qualifiedName holds a path of this machine
    assert not [qn for _, qn in one if str(tmp_path) in qn or str(tmp_path.resolve()) in qn]
    products = [qn for type_name, qn in one if type_name == DATA_PRODUCT]
    files = [qn for qn in products if f":{kind}/" in qn]
    assert files, products  # each fixture reads a file of its own repo
    # where each file is on this machine is kept for reading it, never stored or hashed
    for stores, folder in zip(read, ("clone-a", "ci-runner/b"), strict=True):
        located = [s for st in stores for fs in st.feature_sets for s in fs.sources if s.location]
        assert located and all(s.location.startswith(str(tmp_path / folder)) for s in located)
        assert all("location" not in to_dict(s) for s in located)


def test_a_file_of_the_repo_is_named_by_its_store_and_path(tmp_path: Path) -> None:
    (store,) = _read(_feast(tmp_path))
    files = {s.uri: s for fs in store.feature_sets for s in fs.sources if s.kind == "file"}
    ref = files["file:feast/fraud_mesh/data/transactions.parquet"]
    assert ref.extra["path_as_written"] == "data/transactions.parquet"
    assert ref.location == str(tmp_path / "repo" / "data" / "transactions.parquet")
    (lab,) = _read(_manifest(tmp_path / "m"))
    uris = {s.uri for fs in lab.feature_sets for s in fs.sources}
    assert "file:manifest/fraud-lab/../data/payments_transactions.parquet" in uris


def test_two_stores_with_one_layout_read_two_data_products(tmp_path: Path) -> None:
    """The same layout under two store names (featmesh.yaml ``store:``) is two stores, and
    the files each reads are its own."""
    found = []
    for team in ("a", "b"):
        location = _feast(tmp_path / team)
        spec = parse_source(location, {"store": f"risk_{team}"})
        (store,) = read_source(spec, SourceReport(uri=spec.uri, kind=spec.kind))
        found.append(
            {s.uri for fs in store.feature_sets for s in fs.sources if s.uri.startswith(("file:", "push:"))}
        )
    assert "file:feast/risk_a/data/transactions.parquet" in found[0]
    assert "file:feast/risk_b/data/transactions.parquet" in found[1]
    assert not found[0] & found[1]

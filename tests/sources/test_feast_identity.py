"""Identities of what Feast repos read: relative paths, store-scoped sources, query tables."""

from __future__ import annotations

import shutil
from pathlib import Path

from golden import TESTS

from featmesh.connector.model import FeatureSet, FeatureStore, SourceRef
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import parse_source, read_source
from featmesh.connector.sources.feast.identity import qualify

ALL_SOURCES = TESTS / "fixtures" / "feast" / "all_sources"


def store_with(*sources: SourceRef) -> FeatureStore:
    fs = FeatureSet(store_kind="feast", store="credit", name="v", sources=sources)
    return FeatureStore(kind="feast", name="credit", uri="x", feature_sets=(fs,))


def uris(store: FeatureStore) -> list[str]:
    return [s.uri for s in store.feature_sets[0].sources]


def test_a_redshift_query_leads_to_the_tables_it_reads() -> None:
    query = (
        "WITH recent AS (SELECT * FROM spectrum.credit_history WHERE dt > GETDATE() - 30) "
        "SELECT r.*, z.population FROM recent r JOIN public.zipcode_features z ON r.zip = z.zipcode"
    )
    ref = SourceRef(
        kind="redshift", uri="redshift:query/credit_history", name="credit_history", extra={"query": query}
    )
    report = SourceReport(uri="x", kind="feast")
    out = qualify(store_with(ref), Path("."), report)
    assert uris(out) == ["public.zipcode_features", "spectrum.credit_history"]
    assert all(s.extra["query"] == query for s in out.feature_sets[0].sources)
    assert report.counters["query_tables"] == 2


def test_a_query_that_does_not_parse_stays_one_source_of_its_store() -> None:
    ref = SourceRef(kind="bigquery", uri="bigquery:query/q", name="q", extra={"query": "SELEC FROM WHERE ("})
    report = SourceReport(uri="x", kind="feast")
    out = qualify(store_with(ref), Path("."), report)
    assert uris(out) == ["bigquery:query/feast/credit/q"]
    assert report.warnings.items


def test_two_clones_of_one_repo_read_one_data_product(tmp_path: Path) -> None:
    """A file of the repo is named by the project and its path in the repo, not by where
    the clone is (tests/test_checkout_identity.py: every reader, every name)."""
    found = []
    for clone in ("a", "b/c"):
        shutil.copytree(ALL_SOURCES, tmp_path / clone)
        spec = parse_source(f"feast:{tmp_path / clone}")
        (store,) = read_source(spec, SourceReport(uri=spec.uri, kind=spec.kind))
        files = {s.uri for fs in store.feature_sets for s in fs.sources if s.kind == "file"}
        assert files and all(uri.startswith(f"file:feast/{store.name}/") for uri in files)
        found.append(files)
    assert found[0] == found[1]

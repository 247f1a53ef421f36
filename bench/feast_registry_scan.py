"""Benchmark: scan a large Feast file registry into the featmesh model.

Generates a registry of VIEWS feature views x FEATURES features (default 2,000 x 50)
in a temporary feature repo, then times featmesh reading it (``feast:`` source into
the neutral model) against the Feast SDK listing the same registry
(``FeatureStore(repo_path).list_feature_views()`` on a fresh store, which includes
its registry load). The registry is written with featmesh's own subset schema, which
is wire-compatible with Feast's; the Feast half runs only where ``feast`` is
installed.

    python bench/feast_registry_scan.py [--views 2000] [--features 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import parse_source, read_source
from featmesh.connector.sources.feast.schema import message_class

PROJECT = "bench"
VALUE_TYPES = (2, 3, 4, 5, 6, 7, 16)  # STRING, INT32, INT64, DOUBLE, FLOAT, BOOL, FLOAT_LIST


def build_registry(views: int, features: int) -> bytes:
    registry = message_class("Registry")()
    registry.registry_schema_version = "1"
    registry.projects.add().spec.name = PROJECT
    for e in range(10):
        spec = registry.entities.add().spec
        spec.name, spec.project, spec.join_key, spec.value_type = f"e{e}", PROJECT, f"e{e}_id", 4
    for v in range(views):
        spec = registry.feature_views.add().spec
        spec.name, spec.project = f"view_{v:05d}", PROJECT
        spec.description = f"Feature view {v}"
        spec.owner = f"team{v % 17}@example.com"
        spec.entities.append(f"e{v % 10}")
        spec.entity_columns.add(name=f"e{v % 10}_id", value_type=4)
        spec.tags.add(key="domain", value=f"domain{v % 7}")
        spec.ttl.seconds = 86400 * (1 + v % 30)
        spec.online = True
        for f in range(features):
            spec.features.add(name=f"f{f:03d}", value_type=VALUE_TYPES[f % len(VALUE_TYPES)], description="x")
        source = spec.batch_source
        source.name, source.project, source.type = f"src_{v:05d}", PROJECT, 1
        source.timestamp_field = "event_timestamp"
        source.data_source_class_type = "feast.infra.offline_stores.file_source.FileSource"
        source.file_options.uri = f"s3://lake/bench/view_{v:05d}/"
        source.file_options.file_format.parquet_format.SetInParent()
    return registry.SerializeToString()


def write_repo(root: Path, views: int, features: int) -> int:
    (root / "data").mkdir(parents=True)
    (root / "feature_store.yaml").write_text(
        f"project: {PROJECT}\nprovider: local\nregistry: data/registry.db\n"
        "online_store:\n  type: sqlite\n  path: data/online.db\n"
        "offline_store:\n  type: file\nentity_key_serialization_version: 3\n",
        encoding="utf-8",
    )
    blob = build_registry(views, features)
    (root / "data" / "registry.db").write_bytes(blob)
    return len(blob)


def timed(repeat: int, run: Callable[[], Any]) -> tuple[list[float], Any]:
    """Seconds of each of ``repeat`` runs, and the last run's result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return times, result


def describe(times: list[float]) -> str:
    runs = ", ".join(f"{t:.2f}" for t in times)
    return f"median {statistics.median(times):.2f} s (runs: {runs})"


def featmesh_scan(root: Path) -> int:
    spec = parse_source(f"feast:{root}")
    (store,) = read_source(spec, SourceReport(uri=spec.uri, kind=spec.kind))
    return sum(len(fs.features) for fs in store.feature_sets)


def feast_list(root: Path) -> int:
    from feast import FeatureStore

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        views = FeatureStore(repo_path=str(root)).list_feature_views()
    return sum(len(v.features) for v in views)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=2000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        size = write_repo(root, args.views, args.features)
        print(f"registry: {args.views} feature views x {args.features} features, {size:,} bytes")
        ours, count = timed(args.repeat, lambda: featmesh_scan(root))
        print(f"featmesh scan into the model: {describe(ours)}; {count:,} features")
        try:
            import feast  # noqa: F401
        except ImportError:
            print("feast is not installed: no comparison (pip install feast)")
            return
        theirs, listed = timed(args.repeat, lambda: feast_list(root))
        print(f"Feast SDK list_feature_views: {describe(theirs)}; {listed:,} features")
        assert listed == count, "Feast and featmesh disagree on the number of features"
        ratio = statistics.median(ours) / statistics.median(theirs)
        print(f"ratio featmesh / Feast (medians): {ratio:.2f} (below 1: featmesh is faster)")


if __name__ == "__main__":
    main()

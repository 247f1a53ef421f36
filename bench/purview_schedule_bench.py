"""Purview throughput: the schedule featmesh's pacer plans for a big mesh, on a simulated clock.

Plans the requests of a first load and of an unchanged nightly rescan with ``--verify`` of N feature sets
x M features (default 100,000 x 40) against Purview's Data Map, through featmesh's own
batching (one collection per bulk call, at most 200 entities), cost model
(``connector.catalog.rest.operations``: each entity, classification and relationship a
call carries or names is one operation) and token bucket, at
``--operations-per-second`` (default 25, one capacity unit). Nothing is sent and no time
passes: the bucket sleeps on a simulated clock. Prints, side by side, the planned
duration and its floor (operations / operations per second: no schedule can be faster),
and the request counts. Run from the repository root:

    python bench/purview_schedule_bench.py [--sets 100000] [--features 40] [--domains 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from featmesh.connector.catalog.atlas import LOOKUP_CHUNK, PURVIEW_MAX_BATCH, AtlasCatalog
from featmesh.connector.catalog.rest import TokenBucket, operations


class SimClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _set(i: int, domain: str) -> dict[str, Any]:
    qn = f"featmesh://manifest/store{i % 50}/set{i}@1"
    return {
        "typeName": "featmesh_feature_set",
        "attributes": {"qualifiedName": qn, "name": f"set{i}", "domain": domain},
        "relationshipAttributes": {
            "store": {"typeName": "featmesh_feature_store", "uniqueAttributes": {"qualifiedName": "s"}},
            "entities": [{"typeName": "featmesh_entity", "uniqueAttributes": {"qualifiedName": "e"}}],
        },
        "classifications": [{"typeName": "FEATMESH.COMPLIANT", "attributes": {}, "propagate": False}],
        "businessAttributes": {"featmesh": {"compliant": True}},
    }


def _feature(set_qn: str, j: int) -> dict[str, Any]:
    return {
        "typeName": "featmesh_feature",
        "attributes": {"qualifiedName": f"{set_qn}#f{j}", "name": f"f{j}"},
        "relationshipAttributes": {
            "featureSet": {"typeName": "featmesh_feature_set", "uniqueAttributes": {"qualifiedName": set_qn}}
        },
        "classifications": [{"typeName": "FEATMESH.COMPLIANT", "attributes": {}, "propagate": False}],
        "businessAttributes": {"featmesh": {"compliant": True}},
    }


def _writes(sets: int, features: int, domains: int) -> Iterator[SimpleNamespace]:
    """The plan's creates in its order: each set, then its features; a domain's sets are
    consecutive (the plan follows stores, and a store belongs to one domain)."""
    for i in range(sets):
        domain = f"domain{i * domains // sets}"
        entity = _set(i, domain)
        qn = entity["attributes"]["qualifiedName"]
        yield SimpleNamespace(key=("featmesh_feature_set", qn), desired=entity, domain=domain)
        for j in range(features):
            yield SimpleNamespace(
                key=("featmesh_feature", f"{qn}#f{j}"), desired=_feature(qn, j), domain=domain
            )


class _Collections(dict):  # type: ignore[type-arg]
    """key -> collection, computed on lookup (the bench keeps no per-entity map)."""

    def __init__(self, sets: int, domains: int) -> None:
        super().__init__()
        self.sets, self.domains = sets, domains

    def get(self, key: Any, default: Any = None) -> Any:
        index = int(key[1].split("#", 1)[0].rsplit("set", 1)[1].split("@")[0])
        return f"col{index * self.domains // self.sets}"


def first_load(sets: int, features: int, domains: int, rate: float) -> dict[str, float]:
    clock = SimClock()
    bucket = TokenBucket(rate, clock=clock, sleep=clock.sleep)
    catalog = AtlasCatalog.__new__(AtlasCatalog)
    catalog.batch_size = PURVIEW_MAX_BATCH
    requests = ops = 0
    for _collection, batch in catalog._batches(_writes(sets, features, domains), _Collections(sets, domains)):
        body = {"entities": [c.desired for c in batch]}
        cost = operations("POST", "/entity/bulk", None, body)
        bucket.take(cost)
        requests += 1
        ops += cost
    return {"requests": requests, "operations": ops, "planned": clock.now}


def nightly(sets: int, features: int, rate: float) -> dict[str, float]:
    """An unchanged rescan with ``scan --verify``: every desired key looked up by unique
    attributes, LOOKUP_CHUNK a call (one operation each), nothing written. Without
    ``--verify`` featmesh trusts its run history and sends two requests."""
    clock = SimClock()
    bucket = TokenBucket(rate, clock=clock, sleep=clock.sleep)
    entities = sets * (1 + features)
    requests = ops = 0
    left = entities
    while left > 0:
        chunk = min(LOOKUP_CHUNK, left)
        cost = operations("GET", "/entity/bulk/uniqueAttribute/type/x", [("attr", "")] * chunk, None)
        bucket.take(cost)
        requests += 1
        ops += cost
        left -= chunk
    return {"requests": requests, "operations": ops, "planned": clock.now}


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:8.2f} h"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--domains", type=int, default=8)
    parser.add_argument("--operations-per-second", type=float, default=25.0)
    args = parser.parse_args()
    rate = args.operations_per_second
    started = time.perf_counter()
    load = first_load(args.sets, args.features, args.domains, rate)
    rescan = nightly(args.sets, args.features, rate)
    took = time.perf_counter() - started
    print(
        f"mesh: {args.sets:,} sets x {args.features} features in {args.domains} collections, "
        f"{rate:g} operations/s"
    )
    print(f"{'':28}{'requests':>12}{'operations':>14}{'planned':>12}{'floor':>12}{'planned/floor':>15}")
    for name, row in (("first load (bulk writes)", load), ("nightly rescan --verify", rescan)):
        floor = row["operations"] / rate
        print(
            f"{name:28}{row['requests']:>12,}{row['operations']:>14,}{_hours(row['planned']):>12}"
            f"{_hours(floor):>12}{row['planned'] / floor:>15.4f}"
        )
    print(f"(planned on a simulated clock in {took:.1f} s of real time)")


if __name__ == "__main__":
    main()

"""Benchmark: evaluate mesh-baseline over a generated mesh.

    python bench/policies_bench.py [--sets 10000] [--features 40] [--profiled 0.5]
                                   [--load json|manifest]

Generates a mesh of feature sets across domains (shared feature names with clashing
types, the same source columns engineered in several domains, derived sets with
recorded parent hashes, PII-looking names, profiles for a share of the sets), then
times:

* load: rebuilding the same mesh from its serialised form, the peer the evaluation is
  compared with. ``json``: ``json.loads`` + ``feature_set_from_dict`` (what reading a
  run record or a catalog export costs); ``manifest``: writing featmesh manifests to a
  temporary folder and reading them with the manifest source (slow: pure-Python YAML);
* evaluate: ``policies.evaluate`` with every mesh-baseline rule, mesh-wide ones included;
* summarize: scores per set, domain and mesh;
* outcomes: the per-set and per-feature classification outcomes ``featmesh scan`` writes.

Prints the times, the evaluate / load ratio, and memory (resident set size before the
evaluation and the process's peak).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import sys
import tempfile
import time
import zlib
from pathlib import Path

import yaml

from featmesh.connector.model import (
    ColumnProfile,
    DatasetProfile,
    Feature,
    FeatureSet,
    KeyColumn,
    PiiMatch,
    SourceRef,
    feature_set_from_dict,
    to_dict,
)
from featmesh.policies import classification_outcomes, evaluate, load_policy, summarize
from featmesh.policies.context import PARENT_HASHES

DTYPES = ["int64", "float64", "string", "int32", "bool", "float32"]
STEMS = [
    "txn_count",
    "txn_amount",
    "spend",
    "balance",
    "visits",
    "clicks",
    "age",
    "tenure",
    "chargebacks",
    "refunds",
    "sessions",
    "orders",
    "basket",
    "returns",
    "logins",
]
WINDOWS = ["1d", "7d", "30d", "90d"]
AGGS = ["sum", "avg", "max", "min", "count"]
PII = ["customer_email", "phone_number", "date_of_birth", "postcode"]


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(n_sets: int, n_features: int, profiled: float, seed: int = 7):
    rng = random.Random(seed)
    domains = [f"domain_{i:02d}" for i in range(max(2, n_sets // 500))]
    sets: list[FeatureSet] = []
    profiles: dict[str, DatasetProfile] = {}
    for i in range(n_sets):
        domain = domains[i % len(domains)]
        store = f"store_{domain}"
        table = f"main.raw.table_{rng.randrange(n_sets * 3 // 4 or 1)}"
        features = []
        used: set[str] = set()
        for j in range(n_features):
            if j < len(PII) and rng.random() < 0.02:
                name, dtype = PII[j], "string"
            elif rng.random() < 0.2:  # a name of the mesh-wide vocabulary, its type agreed...
                name = f"{rng.choice(STEMS)}_{rng.choice(AGGS)}_{rng.choice(WINDOWS)}"
                dtype = DTYPES[zlib.crc32(name.encode()) % 2]
                if zlib.crc32(f"{name}/{domain}".encode()) % 50 == 0:
                    dtype = "string"  # ...except where a domain defined it differently
                if name in used:
                    name = f"{name}_{j}"
            else:  # a name of the set's own
                name = f"{rng.choice(STEMS)}_{rng.choice(WINDOWS)}_{i}_{j}"
                dtype = DTYPES[j % len(DTYPES)]
            used.add(name)
            column = f"col_{rng.randrange(30)}"
            features.append(
                Feature(
                    name=name,
                    dtype=dtype,
                    description=f"Feature {j} of set {i}: a measure over the window."
                    if rng.random() > 0.03
                    else "",
                    tags=(
                        {"unit": "eur"}
                        if j % 10 == 0
                        else {"valid_min": "0", "valid_max": "1"}
                        if j % 10 == 5
                        else {}
                    ),
                    source_columns=(column,),
                    transformation=f"{rng.choice(AGGS)}({column}) over {rng.choice(WINDOWS)}",
                )
            )
        derived = ()
        extra = {}
        if i >= 100 and rng.random() < 0.1:
            parent = sets[rng.randrange(i)]
            derived = (parent.ref,)
            recorded = parent.content_hash if rng.random() < 0.9 else "0" * 64
            extra = {PARENT_HASHES: {parent.qualified_name: recorded}}
        fs = FeatureSet(
            store_kind="manifest",
            store=store,
            name=f"feature_set_{i}",
            version=str(1 + i % 3),
            domain=domain,
            domain_rule="declared",
            owner=f"team{i % 40}@contoso.com" if rng.random() > 0.02 else None,
            description=f"Feature set {i} of {domain}: aggregates over {table}.",
            tags={"tier": rng.choice(["gold", "silver", "bronze"])},
            entities=("customer",),
            join_keys=(KeyColumn(name="customer_id", dtype="string"),),
            timestamp_field="event_ts",
            ttl_seconds=86400,
            features=tuple(features),
            sources=(SourceRef(kind="table", uri=table, columns=tuple(f"col_{k}" for k in range(30))),),
            derived_from=derived,
            extra=extra,
        )
        sets.append(fs)
        if rng.random() < profiled:
            profiles[fs.qualified_name] = DatasetProfile(
                uri=table,
                row_count=100_000,
                profiled_at="2026-01-01T00:00:00Z",
                freshness_lag_seconds=rng.choice([3600.0, 200_000.0]),
                columns=tuple(
                    ColumnProfile(
                        name=f.name,
                        dtype=f.dtype,
                        row_count=100_000,
                        null_count=rng.choices([0, 100, 9000], weights=[85, 10, 5])[0],
                        distinct_count=rng.choices([1, 50, 5000], weights=[3, 30, 67])[0],
                        min=0.0,
                        max=rng.choice([1.0, 5.0]),
                        pii=(PiiMatch(pattern="email", share=0.9, sampled=1000),) if f.name in PII else (),
                    )
                    for f in fs.features
                ),
            )
    return sets, profiles


def load_json(sets: list[FeatureSet]) -> tuple[float, list[FeatureSet]]:
    text = json.dumps([to_dict(fs) for fs in sets])
    gc.collect()
    start = time.perf_counter()
    loaded = [feature_set_from_dict(d) for d in json.loads(text)]
    return time.perf_counter() - start, loaded


def load_manifests(sets: list[FeatureSet]) -> tuple[float, list[FeatureSet]]:
    from featmesh.connector.runreport import RunReport
    from featmesh.connector.scan.read import read_sources, resolve_domains
    from featmesh.connector.sources import SourceSpec

    with tempfile.TemporaryDirectory() as tmp:
        by_store: dict[str, list[FeatureSet]] = {}
        for fs in sets:
            by_store.setdefault(fs.store, []).append(fs)
        for store, members in by_store.items():
            for chunk in range(0, len(members), 100):  # files under the loader's node limit
                doc = {
                    "apiVersion": "featmesh/v1",
                    "store": {"name": store, "domain": members[0].domain},
                    "entities": []
                    if chunk
                    else [
                        {
                            "name": "customer",
                            "join_keys": [{"name": "customer_id", "dtype": "string"}],
                        }
                    ],
                    "feature_sets": [
                        {
                            "name": fs.name,
                            "version": fs.version,
                            **({"owner": fs.owner} if fs.owner else {}),
                            "description": fs.description,
                            "entities": ["customer"],
                            "timestamp_field": fs.timestamp_field,
                            "ttl": fs.ttl_seconds,
                            "sources": [{"uri": s.uri, "columns": list(s.columns)} for s in fs.sources],
                            "features": [
                                {
                                    "name": f.name,
                                    "dtype": f.dtype,
                                    "description": f.description,
                                    "source_columns": list(f.source_columns),
                                    "transformation": f.transformation,
                                }
                                for f in fs.features
                            ],
                        }
                        for fs in members[chunk : chunk + 100]
                    ],
                }
                Path(tmp, f"{store}_{chunk}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        gc.collect()
        start = time.perf_counter()
        report = RunReport(command="bench")
        result = read_sources([SourceSpec(kind="manifest", location=tmp)], report)
        loaded = [fs for s in resolve_domains(result.stores) for fs in s.feature_sets]
        return time.perf_counter() - start, loaded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", type=int, default=10_000)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--profiled", type=float, default=0.5, help="share of sets with a profile")
    parser.add_argument("--load", choices=["json", "manifest"], default="json")
    args = parser.parse_args()

    t0 = time.perf_counter()
    sets, profiles = generate(args.sets, args.features, args.profiled)
    print(
        f"generated {len(sets)} sets x {args.features} features "
        f"({len(profiles)} profiled) in {time.perf_counter() - t0:.1f}s",
        file=sys.stderr,
    )

    policy = load_policy()
    before = rss_mib()
    start = time.perf_counter()
    evaluation = evaluate(policy, sets, profiles=profiles)
    evaluate_s = time.perf_counter() - start
    start = time.perf_counter()
    summary = summarize(evaluation)
    summarize_s = time.perf_counter() - start
    mesh_score, n_domains = summary.mesh, len(summary.domains)
    start = time.perf_counter()
    n_outcomes = sum(1 for _ in classification_outcomes(evaluation, run_id="bench", summary=summary))
    outcomes_s = time.perf_counter() - start
    non_pass = sum(1 for _ in evaluation.results(include_passed=False))
    after, peak = rss_mib(), peak_mib()
    del evaluation, summary
    gc.collect()

    load_s, loaded = (load_json if args.load == "json" else load_manifests)(sets)
    assert len(loaded) == len(sets)

    print(f"rules: {len(policy.rules)}  sets: {len(sets)}  features: {len(sets) * args.features}")
    print(f"load ({args.load}):   {load_s:7.2f} s")
    print(f"evaluate:      {evaluate_s:7.2f} s   ({non_pass} non-passing results kept)")
    print(f"summarize:     {summarize_s:7.2f} s   (mesh score {mesh_score}, {n_domains} domains)")
    print(f"outcomes:      {outcomes_s:7.2f} s   ({n_outcomes} classification outcomes)")
    total = evaluate_s + summarize_s
    print(f"evaluate+summarize / load = {total / load_s:.2f}")
    print(
        f"memory: {before:.0f} MiB resident with the mesh loaded, {after - before:+.0f} MiB "
        f"after evaluating; process peak until then {peak:.0f} MiB "
        f"(peak after the load step: {peak_mib():.0f} MiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Generate a featmesh mesh of manifests for the scale benchmarks.

    python bench/meshgen.py OUT --sets 10000 [--features 40] [--domains 20] [--seed 7]
    python bench/meshgen.py OUT --change 0.01 [--seed 8]     # edit 1% of the sets in place

Writes ``OUT/featmesh.yaml`` (a local catalog under ``OUT/.featmesh``) and
``OUT/manifests/<domain>/<store>_<chunk>.yaml``: N feature sets of F features spread over
D domains (one manifest store per domain, 100 sets a file, under the loader's node limit).
The mesh is shaped so the mesh-wide rules do real work:

* feature names are drawn from a vocabulary shared by every domain, with a dtype that
  sometimes differs between domains (dtype conflicts, duplicate features);
* source URIs and columns come from a pool shared across domains (the same column
  engineered in several domains);
* about 10% of the sets are derived from one or two sets of other domains
  (``derived_from``), so lineage and parent hashes are resolved across stores;
* a few sets lack an owner, a description or a TTL, and a few feature names look like PII.

``--change FRACTION`` rewrites the descriptions of that share of the sets, the "1% changed"
rescan of the benchmark. Generation is deterministic for a given seed. Import it from other
benches: ``generate(root, sets=...)`` and ``change(root, fraction=...)``.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

import yaml

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's emitter where PyYAML has it (the same text as the pure-Python one, 4x faster)."""

DTYPES = ["int64", "float64", "string", "int32", "bool", "float32"]
STEMS = [
    "txn_count", "txn_amount", "spend", "balance", "visits", "clicks", "age", "tenure",
    "chargebacks", "refunds", "sessions", "orders", "basket", "returns", "logins",
    "transfers", "deposits", "withdrawals", "limits", "arrears",
]  # fmt: skip
WINDOWS = ["1d", "7d", "30d", "90d", "365d"]
AGGS = ["sum", "avg", "max", "min", "count", "std"]
PII = ["customer_email", "phone_number", "date_of_birth", "postcode"]
DOMAINS = [
    "payments", "customer", "marketing", "risk", "fraud", "lending", "cards", "savings",
    "treasury", "wealth", "insurance", "mortgages", "compliance", "collections", "hr",
    "finance", "supply", "pricing", "servicing", "digital",
]  # fmt: skip
SETS_PER_FILE = 100
CONFIG = """\
version: 1
catalog:
  uri: local:.featmesh/catalog.db
  batch_size: 500
sources:
  - uri: manifest:manifests
policies:
  packs: [mesh-baseline]
  fail_on: never
"""


def _domain(index: int, domains: int) -> str:
    base = DOMAINS[index % len(DOMAINS)]
    return base if index < len(DOMAINS) else f"{base}{index // len(DOMAINS)}"


def _feature_vocabulary() -> list[tuple[str, str]]:
    """(name, usual dtype) pairs shared by every domain."""
    vocab = []
    for stem in STEMS:
        for window in WINDOWS:
            for agg in AGGS:
                dtype = "int64" if agg == "count" else "float64"
                vocab.append((f"{stem}_{agg}_{window}", dtype))
    return vocab


def _sources_pool(rng: random.Random, size: int = 400) -> list[tuple[str, list[str]]]:
    pool = []
    for i in range(size):
        dom = DOMAINS[i % len(DOMAINS)]
        uri = (
            f"main.{dom}.table_{i}"
            if i % 2
            else f"abfss://raw@contoso{dom}.dfs.core.windows.net/{dom}/dataset_{i}/"
        )
        raw = [f"{s}_raw" for s in STEMS] + ["amount_eur", "channel", "merchant_id"]
        cols = ["customer_id", "event_ts", *rng.sample(raw, 6)]
        pool.append((uri, cols))
    return pool


def build(sets: int, features: int = 40, domains: int = 20, seed: int = 7) -> dict[str, list[dict]]:
    """The mesh as ``{domain: [feature set dict, ...]}`` in manifest form."""
    rng = random.Random(seed)
    vocab = _feature_vocabulary()
    pool = _sources_pool(rng)
    by_domain: dict[str, list[dict]] = {_domain(d, domains): [] for d in range(domains)}
    names = list(by_domain)
    made: list[tuple[str, str, int]] = []  # (store, set name, version)
    for i in range(sets):
        dom = names[i % domains]
        store = f"{dom}-features"
        src = rng.sample(pool, rng.randint(1, 3))
        columns = [c for _, cols in src for c in cols]
        chosen = rng.sample(vocab, min(features, len(vocab)))
        feats = []
        for j, (fname, dtype) in enumerate(chosen):
            if rng.random() < 0.02:  # the same name with another type in this domain
                dtype = rng.choice(DTYPES)
            if j == 0 and rng.random() < 0.03:
                fname, dtype = rng.choice(PII), "string"
            feat: dict = {
                "name": fname,
                "dtype": dtype,
                "description": f"{fname.replace('_', ' ')} of the {dom} domain.",
                "source_columns": [rng.choice(columns)],
            }
            if rng.random() < 0.2:
                feat["transformation"] = (
                    f"{(fname.split('_')[-2:-1] or ['first'])[0]}({feat['source_columns'][0]})"
                )
            feats.append(feat)
        doc: dict = {
            "name": f"{dom}_set_{i:06d}",
            "version": 1 + i % 3,
            "entities": ["customer"],
            "timestamp_field": "event_ts",
            "tags": {"tier": rng.choice(["gold", "silver", "bronze"])},
            "sources": [{"uri": uri, "columns": cols} for uri, cols in src],
            "features": feats,
        }
        if rng.random() > 0.05:
            doc["description"] = f"Feature set {i} of the {dom} domain."
        if rng.random() > 0.1:
            doc["ttl"] = rng.choice(["1d", "7d", "30d"])
        if rng.random() < 0.03:
            doc["owner"] = "bob"
        if made and rng.random() < 0.1:
            parents = rng.sample(made, min(len(made), rng.randint(1, 2)))
            doc["derived_from"] = [
                name if pstore == store else f"{pstore}/{name}@{version}" for pstore, name, version in parents
            ]
        made.append((store, doc["name"], doc["version"]))
        by_domain[dom].append(doc)
    return by_domain


def _store_doc(dom: str, members: list[dict], first: bool) -> dict:
    return {
        "apiVersion": "featmesh/v1",
        "store": {
            "name": f"{dom}-features",
            "platform": "databricks",
            "domain": dom,
            "owner": f"{dom}-data@contoso.com",
            "description": f"Features of the {dom} domain.",
        },
        "entities": [{"name": "customer", "join_keys": [{"name": "customer_id", "dtype": "string"}]}]
        if first
        else [],
        "feature_sets": members,
    }


def generate(root: Path, sets: int, features: int = 40, domains: int = 20, seed: int = 7) -> Path:
    """Write the mesh under ``root``; returns the path of its ``featmesh.yaml``."""
    root.mkdir(parents=True, exist_ok=True)
    for dom, members in build(sets, features, domains, seed).items():
        folder = root / "manifests" / dom
        folder.mkdir(parents=True, exist_ok=True)
        for chunk in range(0, max(len(members), 1), SETS_PER_FILE):
            doc = _store_doc(dom, members[chunk : chunk + SETS_PER_FILE], chunk == 0)
            if not doc["feature_sets"]:
                continue
            text = yaml.dump(doc, Dumper=_DUMPER, sort_keys=False, width=200)
            (folder / f"{dom}_{chunk // SETS_PER_FILE:04d}.yaml").write_text(text)
    config = root / "featmesh.yaml"
    config.write_text(CONFIG)
    return config


_DESCRIPTION = re.compile(r"^(  description: Feature set \d+ of the \w+ domain\.)(.*)$", re.M)


def change(root: Path, fraction: float, seed: int = 8) -> int:
    """Edit ``fraction`` of the sets in place (text edits, no re-dump); returns how many."""
    rng = random.Random(seed)
    files = sorted((root / "manifests").rglob("*.yaml"))
    spots: list[tuple[Path, int]] = []
    texts = {path: path.read_text() for path in files}
    for path, text in texts.items():
        spots.extend((path, m.start()) for m in _DESCRIPTION.finditer(text))
    picked = rng.sample(spots, max(1, round(len(spots) * fraction))) if spots else []
    by_file: dict[Path, set[int]] = {}
    for path, pos in picked:
        by_file.setdefault(path, set()).add(pos)
    stamp = rng.randint(0, 10**6)
    for path, positions in by_file.items():
        text = texts[path]
        out = []
        last = 0
        for m in _DESCRIPTION.finditer(text):
            if m.start() in positions:
                out.append(text[last : m.end(1)])
                out.append(f" Revised {stamp}.")
                last = m.end()
        out.append(text[last:])
        path.write_text("".join(out))
    return len(picked)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sets", type=int, default=1_000)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--domains", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--change", type=float, help="edit this share of an existing mesh")
    args = parser.parse_args()
    if args.change is not None:
        print(f"changed {change(args.out, args.change, args.seed)} sets under {args.out}")
        return 0
    config = generate(args.out, args.sets, args.features, args.domains, args.seed)
    print(f"{args.sets} sets x {args.features} features over {args.domains} domains: {config}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

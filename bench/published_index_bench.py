"""Reading the published mesh from the local catalog: the ``published_sets`` index
against decoding every feature set and feature entity (what a catalog without the index
costs), side by side on one generated mesh, with and without the stores of one domain
excluded (what ``scan`` of that domain reads), and the one-time indexing of an old catalog.

    python bench/published_index_bench.py [--sets 1000] [--features 40]

Both reads must return the same feature sets in the same order; the script says so.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import meshgen

from featmesh.connector.catalog.local import INDEXED, LocalCatalog
from featmesh.connector.model import to_dict

SCAN = "import sys; from featmesh.connector.cli import main; sys.argv = ['featmesh', *sys.argv[1:]]; main()"


def _timed(catalog: LocalCatalog, exclude: list[tuple[str, str]]) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    sets = catalog.published_feature_sets(exclude_stores=exclude)
    return time.perf_counter() - start, [to_dict(fs) for fs in sets]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", type=int, default=1000)
    parser.add_argument("--features", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="featmesh-index-") as tmp:
        root = Path(tmp) / "mesh"
        config = meshgen.generate(root, args.sets, features=args.features)
        db = Path(tmp) / "catalog.db"
        print(f"scanning {args.sets} sets x {args.features} features into a local catalog ...", flush=True)
        scan = [sys.executable, "-c", SCAN, "-q", "scan", "--config", str(config), "--catalog", f"local:{db}"]
        done = subprocess.run(scan, capture_output=True, text=True)
        if done.returncode not in (0, 1):
            print(done.stderr[-2000:], file=sys.stderr)
            return 2
        old = Path(tmp) / "old.db"
        shutil.copy(db, old)
        with sqlite3.connect(old) as plain:  # a catalog written before the index existed
            plain.execute("DROP TABLE published_sets")
            plain.execute("DELETE FROM meta WHERE key = ?", (INDEXED,))
        without, with_index = LocalCatalog(old, read_only=True), LocalCatalog(db, read_only=True)
        try:
            store = sorted({fs.store for fs in with_index.published_feature_sets()})[0]
            print(f"{'read':34} {'entities':>10} {'index':>10} {'ratio':>7}  same")
            for label, exclude in (
                ("the whole mesh (check)", []),
                (f"all but {store} (scan of it)", [("manifest", store)]),
            ):
                slow, expected = _timed(without, exclude)
                fast, found = _timed(with_index, exclude)
                print(
                    f"{label:34} {slow:9.2f}s {fast:9.2f}s {slow / fast:6.1f}x  "
                    f"{'yes' if found == expected else 'NO'} ({len(found)} sets)"
                )
        finally:
            without.close()
            with_index.close()
        start = time.perf_counter()
        LocalCatalog(old).close()  # the first writable open indexes it
        print(f"indexing the old catalog once on open: {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

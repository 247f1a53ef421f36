"""Golden-file comparison for source readers: the scanned model as JSON.

Set ``FEATMESH_UPDATE_GOLDEN=1`` to rewrite the golden files from what the readers
produce now; review the diff before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from featmesh.connector.model import FeatureStore, to_dict

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"


def as_json(stores: list[FeatureStore], roots: dict[str, Path]) -> str:
    """The stores as JSON text, with the given folders replaced by placeholders so the
    golden files hold no machine paths."""
    text = json.dumps([to_dict(s) for s in stores], indent=2, sort_keys=True)
    for placeholder, root in roots.items():
        # readers resolve paths: a fixture folder reached through a symlink appears resolved
        for form in dict.fromkeys((str(root.resolve()), str(root))):
            text = text.replace(form, placeholder)
    return text + "\n"


def assert_golden(actual: str, golden: Path) -> None:
    if os.environ.get("FEATMESH_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; run with FEATMESH_UPDATE_GOLDEN=1"
    assert actual == golden.read_text(encoding="utf-8"), (
        f"scanned model differs from {golden.name}; "
        "if the change is intended, run with FEATMESH_UPDATE_GOLDEN=1 and review the diff"
    )

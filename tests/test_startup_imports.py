"""Start-up: what ``featmesh check`` of one manifest imports (a pre-commit hook runs it on
every commit). The kind of a source is decided by its file name and head before any
reader's modules load, so a manifest check loads no Feast decoder (protobuf and the
registry schema), no pyhocon, no catalog client, no HTTP stack and no numpy (YAML line
lookups find offsets without it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

NEVER_FOR_A_MANIFEST = (
    "featmesh.connector.sources.feast.registry",
    "featmesh.connector.sources.feast.mapping",
    "featmesh.connector.sources.feathr.reader",
    "featmesh.connector.sources.azureml.store",
    "google.protobuf",
    "pyhocon",
    "pyapacheatlas",
    "requests",
    "numpy",
)

PROBE = """
import json, sys
from featmesh.connector.cli import main
sys.argv = ["featmesh", "-q", "check", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _manifest(tmp_path: Path) -> Path:
    path = tmp_path / "payments.yaml"
    path.write_text(
        "apiVersion: featmesh/v1\n"
        "store: {name: payments, domain: payments, owner: payments-ml@contoso.com}\n"
        "feature_sets:\n"
        "  - name: txn\n"
        "    version: 1\n"
        "    features:\n"
        "      - {name: txn_count_7d, dtype: int64}\n"
    )
    return path


def test_a_manifest_check_loads_no_other_reader(tmp_path: Path) -> None:
    loaded = _modules_after(str(_manifest(tmp_path)))
    assert "featmesh.connector.sources.manifest" in loaded
    found = sorted(m for m in loaded if m.startswith(NEVER_FOR_A_MANIFEST))
    assert found == []


def test_a_feathr_check_loads_its_reader(tmp_path: Path) -> None:
    """The probe can fail: the same run on a Feathr workspace loads the Feathr reader."""
    loaded = _modules_after(str(Path(__file__).parent / "data" / "feathr_workspace"))
    assert "featmesh.connector.sources.feathr.reader" in loaded
    assert "pyhocon" in loaded

"""Shared test helpers: the CLI runner, paths to samples and to the real-world fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from featmesh.connector.cli import cli

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
DATA = Path(__file__).resolve().parent / "data"
SAMPLE_MESH_ENTITIES = 4 + 6 + 7 + 34 + 9 + 69 + 9
"""What ``samples/manifests`` maps to: 4 stores, 6 join-key entities, 7 placeholder data
products and the 34 columns their readers' lineage reads, 9 feature sets, 69 features and
9 source pipelines."""
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"


PAYMENTS_MANIFEST = """\
apiVersion: featmesh/v1
store: {{name: {store}, domain: payments, owner: payments-ml@contoso.com}}
entities:
  - {{name: customer, join_keys: [{{name: customer_id, dtype: string}}]}}
feature_sets:
  - name: transaction_aggregates
    version: 2
    description: Rolling counts and amounts of a customer's card transactions.
    entities: [customer]
    timestamp_field: event_ts
    ttl: 2d
    sources:
      - {{kind: delta, uri: main.payments.card_transactions, columns: [customer_id, amount_eur]}}
    features:
      - {{name: txn_count_7d, dtype: int64, description: "Card transactions in 7 days."}}
"""


def payments_manifest(store: str) -> str:
    """A small, valid manifest of one store named ``store``: one feature set of one feature."""
    return PAYMENTS_MANIFEST.format(store=store)


@pytest.fixture(autouse=True)
def _secrets_of_this_test_only() -> Any:
    """A secret a test makes known (a config's credential variables, a token) is not known
    to the tests after it: while one is, every record is scrubbed as it is written, so a
    leftover would change what a later test exercises."""
    from featmesh.connector import redact

    variables, values = set(redact._variables), set(redact._values)
    yield
    redact._variables.clear()
    redact._variables.update(variables)
    redact._values.clear()
    redact._values.update(values)


@pytest.fixture(autouse=True, scope="session")
def _parse_cache_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The parse cache of the test run, not of the machine's user."""
    import os

    before = os.environ.get("FEATMESH_CACHE_DIR")
    os.environ["FEATMESH_CACHE_DIR"] = str(tmp_path_factory.mktemp("parse-cache"))
    yield
    if before is None:
        os.environ.pop("FEATMESH_CACHE_DIR", None)
    else:
        os.environ["FEATMESH_CACHE_DIR"] = before


def shared_fixture(*parts: str) -> Path:
    """A real-world fixture from the shared folder beside the repo, or skip."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared fixture {'/'.join(parts)} is not present beside the repository")
    return path


def run(*args: str, **kwargs: Any) -> Result:
    """Run ``featmesh ARGS`` in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kwargs)


def run_json(*args: str) -> tuple[Result, dict[str, Any]]:
    result = run(*args)
    return result, json.loads(result.stdout)


@pytest.fixture
def catalog_uri(tmp_path: Path) -> str:
    return f"local:{tmp_path / 'catalog.db'}"


def sample_mesh_with_models(tmp_path_factory: pytest.TempPathFactory, name: str) -> str:
    """A local catalog holding the sample mesh and its models, scanned once per module."""
    db = tmp_path_factory.mktemp(name) / "c.db"
    result = run(
        "scan",
        f"manifest:{SAMPLES / 'manifests'}",
        f"manifest:{SAMPLES / 'models'}",
        "--catalog",
        f"local:{db}",
    )
    assert result.exit_code == 0, result.stderr
    return f"local:{db}"


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now

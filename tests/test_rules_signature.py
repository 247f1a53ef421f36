"""The rules signature is the same in every process: incremental scans skip by it."""

from __future__ import annotations

import os
import subprocess
import sys

CODE = (
    "import datetime as dt\n"
    "from featmesh.policies import load_policy\n"
    "from featmesh.connector.scan.increment import rules_signature\n"
    "print(rules_signature(load_policy(None), None, dt.date(2026, 1, 1)))\n"
)


def _signature(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()


def test_the_rules_signature_does_not_change_with_string_hashing_or_addresses() -> None:
    # sets print in hash order and compiled patterns by address: neither may reach the signature
    assert _signature("1") == _signature("2") == _signature("3")

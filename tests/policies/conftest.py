from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from featmesh.policies import PolicySet, load_policy


@pytest.fixture
def make_pack(tmp_path: Path):
    """Write a pack (a dict, or YAML text) to a file and return its path."""
    counter = iter(range(1000))

    def make(body: dict[str, Any] | str, name: str | None = None) -> Path:
        path = tmp_path / (name or f"pack{next(counter)}.yaml")
        if isinstance(body, dict):
            body = yaml.safe_dump({"apiVersion": "featmesh/v1", "kind": "PolicyPack", "version": "1", **body})
        path.write_text(body)
        return path

    return make


@pytest.fixture
def one_rule(make_pack):
    """A PolicySet of one rule on ``check`` with ``params``."""

    def make(
        check: str, params: dict[str, Any] | None = None, severity: str = "error", **rule: Any
    ) -> PolicySet:
        spec = {"id": "r", "check": check, "severity": severity, **rule}
        if params:
            spec["params"] = params
        return load_policy([str(make_pack({"name": "t", "rules": [spec]}))])

    return make

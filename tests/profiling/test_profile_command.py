from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from featmesh.connector.cli import cli


def test_profile_prints_metrics(parquet_file: Path) -> None:
    result = CliRunner().invoke(cli, ["profile", str(parquet_file)])
    assert result.exit_code == 0, result.output
    assert "5,000 rows, 5 columns" in result.output
    assert "nulls 500 (10.00%)" in result.output
    assert "PII: email in 25.0%" in result.output
    assert "user0@example.com" not in result.output


def test_profile_json(parquet_file: Path) -> None:
    result = CliRunner().invoke(cli, ["profile", str(parquet_file), "--json", "--sample-rows", "2000"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["sampled_rows"] == 2000
    assert [c["name"] for c in body["columns"]][:2] == ["id", "amount"]


def test_missing_path_exits_2_naming_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["profile", str(tmp_path / "gone.parquet")])
    assert result.exit_code == 2
    assert "gone.parquet: no such file or directory" in result.output


def test_bad_sample_rows_exits_2(parquet_file: Path) -> None:
    result = CliRunner().invoke(cli, ["profile", str(parquet_file), "--sample-rows", "0"])
    assert result.exit_code == 2 and "--sample-rows" in result.output

"""``featmesh typedefs export`` and ``featmesh typedefs validate``."""

# The expected output lines stay whole on one line each, so a message can be grepped for.

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from featmesh.connector.cli import cli
from featmesh.typedefs import load_base_typedefs, load_typedefs, validate_document


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_export_prints_the_whole_type_system(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["typedefs", "export"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc) == [
        "entityDefs",
        "relationshipDefs",
        "classificationDefs",
        "structDefs",
        "enumDefs",
        "businessMetadataDefs",
    ]
    assert {d["name"] for d in doc["businessMetadataDefs"]} == {"featmesh"}
    names = {d["name"] for section in doc.values() for d in section}
    assert {
        "featmesh_feature_store",
        "featmesh_feature_set",
        "featmesh_feature",
        "featmesh_entity",
    } <= names
    assert {"featmesh_data_product", "featmesh_feature_pipeline"} <= names
    assert {"FEATMESH.COMPLIANT", "FEATMESH.NON_COMPLIANT"} <= names
    base_names = {d["name"] for section in load_base_typedefs().values() for d in section}
    assert not names & base_names, "Atlas's base types are not featmesh's to export"
    assert validate_document(doc) == []
    assert result.stdout.startswith('{\n  "entityDefs": [\n    {')


def test_export_is_stable_and_matches_the_loader(runner: CliRunner) -> None:
    first = runner.invoke(cli, ["typedefs", "export"]).stdout
    second = runner.invoke(cli, ["typedefs", "export"]).stdout
    assert first == second
    assert json.loads(first) == {k: v for k, v in load_typedefs().items()}


def test_export_to_a_file(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "featmesh-types.json"
    result = runner.invoke(cli, ["typedefs", "export", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8"))["entityDefs"]


def test_export_to_an_unwritable_place(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "types.json"
    result = runner.invoke(cli, ["typedefs", "export", "-o", str(target)])
    assert result.exit_code == 2
    assert f"featmesh: error: {target}: cannot write" in result.stderr
    assert "Traceback" not in result.output


def test_validate_the_shipped_types(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["typedefs", "validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == [
        "featmesh typedefs: OK, valid Atlas typedefs (8 entityDefs, 5 relationshipDefs, "
        "3 classificationDefs, 1 businessMetadataDefs)"
    ]


def test_validate_an_exported_file_round_trips(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "types.json"
    runner.invoke(cli, ["typedefs", "export", "-o", str(target)])
    result = runner.invoke(cli, ["typedefs", "validate", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{target}: OK")


BROKEN_YAML = """\
entityDefs:
  - name: shop_store
    superTypes: [DataSet]
  - name: shop_set
    superTypes: [Dataset]
relationshipDefs:
  - name: shop_store_sets
    relationshipCategory: ASSOCIATION
    endDef1: {type: shop_store, name: sets, isContainer: true, cardinality: LIST}
    endDef2: {type: shop_set, name: store, cardinality: SINGLE}
"""


def test_validate_lists_every_problem_and_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "types.yaml"
    path.write_text(BROKEN_YAML, encoding="utf-8")
    result = runner.invoke(cli, ["typedefs", "validate", str(path)])
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [
        f"{path}: entityDefs[1] 'shop_set': unknown superType 'Dataset'",
        f"{path}: relationshipDefs[0].endDef1 'shop_store_sets': a relationship end cannot be LIST (use SET)",
    ]
    assert result.stderr.strip() == (
        f"featmesh: error: {path}: 2 problems: Atlas would refuse this typedef document"
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("types.json", '{\n  "entityDefs": [\n', "types.json:3: invalid JSON"),
        ("types.yaml", "entityDefs: [\n", "types.yaml:2: invalid YAML"),
        ("types.yaml", "", "types.yaml: file is empty"),
    ],
)
def test_validate_an_unreadable_file(
    runner: CliRunner, tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(cli, ["typedefs", "validate", str(path)])
    assert result.exit_code == 2
    assert f"featmesh: error: {tmp_path}/{message}" in result.stderr
    assert "Traceback" not in result.output


def test_validate_a_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["typedefs", "validate", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"featmesh: error: {tmp_path / 'nope.json'}: no such file"


def test_validate_a_document_of_the_wrong_shape(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "types.json"
    path.write_text('["entityDefs"]', encoding="utf-8")
    result = runner.invoke(cli, ["typedefs", "validate", str(path)])
    assert result.exit_code == 2
    assert result.stdout.startswith(f"{path}: (document): a typedef document is a mapping")

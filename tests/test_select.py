"""``featmesh check FILE...``: the files select the stores they belong to (what the
``featmesh-check-changed`` pre-commit hook passes; the real hook runs in test_precommit)."""

from __future__ import annotations

from pathlib import Path

from featmesh.connector.scan.select import NOT_A_STORE, select
from featmesh.connector.sources import parse_source

FIXTURES = Path(__file__).parent / "policies" / "fixtures"


def _layout(tmp_path: Path) -> Path:
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "risk.yaml").write_text((FIXTURES / "failing" / "risk.yaml").read_text())
    (tmp_path / "loose.yaml").write_text((FIXTURES / "clean" / "payments.yaml").read_text())
    (tmp_path / "pack.yaml").write_text(
        "apiVersion: featmesh/v1\nkind: PolicyPack\nname: t\nversion: 1\nrules: []\n"
    )
    (tmp_path / "notes.txt").write_text("hello\n")
    return tmp_path


def test_files_select_their_source_and_the_rest_get_a_note(tmp_path: Path) -> None:
    root = _layout(tmp_path)
    configured = [parse_source(f"manifest:{root / 'features'}")]
    found = select(
        [str(root / "features" / "risk.yaml"), str(root / "loose.yaml"), str(root / "pack.yaml"),
         str(root / "notes.txt")],
        configured,
        always=(),
    )  # fmt: skip
    assert [s.uri for s in found.specs] == [
        f"manifest:{root / 'features'}",
        f"manifest:{root / 'loose.yaml'}",
    ]
    assert found.changed == {f"manifest:{root / 'features'}": {(root / "features" / "risk.yaml").resolve()}}
    assert found.notes == [f"{root / 'pack.yaml'}: {NOT_A_STORE}", f"{root / 'notes.txt'}: {NOT_A_STORE}"]


def test_a_pack_in_use_selects_every_source_whole(tmp_path: Path) -> None:
    root = _layout(tmp_path)
    configured = [parse_source(f"manifest:{root / 'features'}")]
    found = select(
        [str(root / "features" / "risk.yaml"), str(root / "pack.yaml")],
        configured,
        always=[root / "pack.yaml"],
    )
    assert [s.uri for s in found.specs] == [configured[0].uri]
    assert found.changed == {} and found.notes == []


def test_explicit_sources_stay_sources(tmp_path: Path) -> None:
    root = _layout(tmp_path)
    found = select([f"manifest:{root / 'features'}", str(root / "features")], (), always=())
    assert [s.uri for s in found.specs] == [f"manifest:{root / 'features'}"]
    assert found.changed == {}


def test_a_manifest_with_a_mistyped_api_version_is_read_and_fails(tmp_path: Path) -> None:
    """Never a silent pass: a YAML shaped like a manifest is read as one, and its error shown."""
    typo = tmp_path / "risk.yaml"
    typo.write_text((FIXTURES / "failing" / "risk.yaml").read_text().replace("featmesh/v1", "featmesh/v2"))
    found = select([str(typo)], (), always=())
    assert [s.kind for s in found.specs] == ["manifest"] and found.notes == []

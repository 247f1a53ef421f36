from pathlib import Path

import pytest

from featmesh.connector.documents import MAX_DEPTH, load_yaml, parse_yaml, validate
from featmesh.connector.errors import InputError

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "items": {"type": "array", "items": {"type": "integer"}}},
}


def test_positions_and_schema_errors_name_the_line():
    doc = parse_yaml("name: a\nitems:\n  - 1\n  - two\n", "f.yaml")
    with pytest.raises(InputError) as err:
        validate(doc, SCHEMA)
    assert str(err.value).startswith("f.yaml:4: items[1]: wrong type: 'two' is not of type 'integer'")


def test_unknown_key_points_at_the_key():
    doc = parse_yaml("name: a\n\nnmae: b\n", "f.yaml")
    with pytest.raises(InputError, match=r"^f.yaml:3: nmae: Additional properties"):
        validate(doc, SCHEMA)


def test_duplicate_keys_are_refused():
    with pytest.raises(InputError, match=r"f.yaml:2: name: duplicate key 'name'"):
        parse_yaml("name: a\nname: b\n", "f.yaml")


def test_empty_and_comment_only_documents():
    with pytest.raises(InputError, match="file is empty"):
        parse_yaml("  \n", "f.yaml")
    with pytest.raises(InputError, match="holds no document"):
        parse_yaml("# nothing\n", "f.yaml")


def test_deep_nesting_is_refused():
    deep = "{a: " * (MAX_DEPTH + 5) + "1" + "}" * (MAX_DEPTH + 5)
    with pytest.raises(InputError, match="nested"):
        parse_yaml(deep, "f.yaml")
    deeper = "[" * 5000 + "]" * 5000
    with pytest.raises(InputError, match="nested too deeply"):
        parse_yaml(deeper, "f.yaml")


def test_alias_bomb_is_refused():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(InputError, match=r"more than .* nodes"):
        parse_yaml("\n".join(lines), "bomb.yaml")


def test_huge_and_binary_files(tmp_path: Path, monkeypatch):
    import featmesh.connector.documents as documents

    big = tmp_path / "big.yaml"
    big.write_text("a: 1\n" * 100)
    monkeypatch.setattr(documents, "MAX_BYTES", 50)
    with pytest.raises(InputError, match="more than the 50 bytes"):
        load_yaml(big)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x00\x01abc")
    with pytest.raises(InputError, match="binary file"):
        load_yaml(binary)
    latin = tmp_path / "l.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_yaml(latin)
    with pytest.raises(InputError, match="no such file"):
        load_yaml(tmp_path / "missing.yaml")

"""The fast YAML path (yaml-rs + a rapidyaml tree for positions) against PyYAML's SafeLoader.

Every document must mean on the fast path what it means to PyYAML (YAML 1.1), and every
position must be the one PyYAML's composer gives; where the two could differ, the document
is read by PyYAML.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

import featmesh.connector.documents as documents
from featmesh.connector.documents import MAX_DEPTH, Document, parse_yaml, validate
from featmesh.connector.errors import InputError

pytest.importorskip("yaml_rs", reason="yaml-rs has no wheel here: PyYAML reads everything")
pytest.importorskip("ryml", reason="rapidyaml has no wheel here")

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = """\
apiVersion: featmesh/v1
store:
  name: s
  platform: databricks
entities:
  - name: customer
    join_keys:
      - {name: customer_id, dtype: string}
feature_sets:
  - name: a
    version: 1
    entities: [customer]
    ttl: 30d
    tags: {tier: gold, pii: "true"}
    features:
      - name: f1
        dtype: int64
        description: "the first"
      - {name: f2, dtype: float64}
  - name: b
    features:
      - name: g
        dtype: string
"""


def _composed_lines(text: str) -> dict[tuple, int]:
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    doc = Document("x", None)
    documents._Builder(doc).build(node, ())
    return doc.lines


def test_a_manifest_takes_the_fast_path_and_positions_come_lazily():
    doc = parse_yaml(MANIFEST, "m.yaml")
    assert doc.source is not None  # fast path: no line map built
    assert doc.lines == {}
    assert doc._locator is None  # no tree until a position is asked for
    assert doc.data == yaml.load(MANIFEST, Loader=yaml.SafeLoader)
    assert doc.line_of(("feature_sets", 1)) == 20
    assert doc._locator is not None
    for pointer, line in _composed_lines(MANIFEST).items():
        assert doc.line_of(pointer) == line, pointer
    assert doc.source is not None  # every position came from the tree
    # a pointer past the document: the deepest node that exists
    assert doc.line_of(("feature_sets", 0, "features", 1, "nope", 3)) == 19
    assert doc.line_of(("feature_sets", 9)) == doc.line_of(("feature_sets",)) == 9


def test_positions_are_the_same_in_any_lookup_order():
    """A lookup reuses the tree node of a parent an earlier lookup reached (findings ask
    for the keys of one set after another): the order must not change any answer."""
    composed = list(_composed_lines(MANIFEST).items())
    for order in (composed, composed[::-1], composed[1::2] + composed[::2]):
        doc = parse_yaml(MANIFEST, "m.yaml")
        for pointer, line in order:
            assert doc.line_of(pointer) == line, pointer
            # past the end below a known parent: still the deepest node that exists
            assert doc.line_of((*pointer, "nope")) == line, pointer
        assert doc.source is not None


def test_errors_name_file_and_line_on_the_fast_path():
    doc = parse_yaml(MANIFEST.replace("dtype: float64", "dtype: 7"), "m.yaml")
    assert doc.source is not None
    schema = {
        "type": "object",
        "properties": {
            "feature_sets": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "features": {
                            "type": "array",
                            "items": {"properties": {"dtype": {"type": "string"}}},
                        }
                    },
                },
            }
        },
    }
    with pytest.raises(InputError) as err:
        validate(doc, schema)
    assert str(err.value).startswith("m.yaml:19: feature_sets[0].features[1].dtype: wrong type")
    assert str(doc.error("x", ("feature_sets", 1, "name"))) == "m.yaml:20: feature_sets[1].name: x"


@pytest.mark.parametrize(
    "value",
    [
        "yes", "No", "on", "OFF", "2026-01-01", "2026-1-5 10:00:00", "1e3", "1.0e3", "1e+3",
        "010", "0o10", "09", "0x1F", "0b101", "1_000", "1:20", "1:20.5", "+.5", ".5", ".inf",
        "-.inf", ".nan", "=", "~", "null", "", "true", "False", "1.", "+1", "-0", "1.5",
        "30d", "1.2.3", "'yes'", '"010"', "'2026-01-01'", "!!str 12", "[yes, 1e3]",
        "{on: 1}",
    ],
)  # fmt: skip
def test_plain_scalars_mean_what_they_meant_to_pyyaml(value):
    text = f"key: {value}\nother: [a, b]\n"
    try:
        expected = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        with pytest.raises(InputError):
            parse_yaml(text, "f.yaml")
        return
    if isinstance(expected.get("key"), dict):
        expected["key"] = {str(k): v for k, v in expected["key"].items()}
    assert repr(parse_yaml(text, "f.yaml").data) == repr(expected)  # nan == nan too


def test_generated_scalars_agree_with_pyyaml():
    """Short plain scalars over the characters YAML 1.1 and 1.2 resolve differently."""
    alphabet = ["0", "1", "9", "e", "X", "o", "b", ".", "_", ":", "-", "+", "n", "a", "i"]
    checked = 0
    for length in (1, 2, 3):
        for chars in itertools.product(alphabet, repeat=length):
            token = "".join(chars)
            text = f"k: {token}\n"
            try:
                expected = yaml.load(text, Loader=yaml.SafeLoader)
            except (yaml.YAMLError, ValueError):
                continue
            assert repr(parse_yaml(text, "f.yaml").data) == repr(expected), token
            checked += 1
    assert checked > 2000


def test_the_fast_path_keeps_the_limits():
    deep = "{a: " * (MAX_DEPTH + 5) + "1" + "}" * (MAX_DEPTH + 5)
    with pytest.raises(InputError, match="nested more than"):
        parse_yaml(deep, "f.yaml")
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    with pytest.raises(InputError, match=r"more than .* nodes"):
        parse_yaml("\n".join(lines), "bomb.yaml")
    with pytest.raises(InputError, match=r"f.yaml:3: a: duplicate key 'a'"):
        parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    with pytest.raises(InputError, match=r"f.yaml:2: .*duplicate key '1'"):
        parse_yaml("1: x\n'1': y\n", "f.yaml")
    with pytest.raises(InputError, match=r"f.yaml:2: invalid YAML: but found another document"):
        parse_yaml("a: 1\n---\nb: 2\n", "f.yaml")
    with pytest.raises(InputError, match=r"f.yaml:3: invalid YAML"):
        parse_yaml("a: 1\nb: [\n", "f.yaml")


def test_aliases_load_and_their_positions_come_from_the_composer():
    text = "a: &x\n  - 1\n  - 2\nb: *x\nc: 3\n"
    doc = parse_yaml(text, "f.yaml")
    assert doc.data == {"a": [1, 2], "b": [1, 2], "c": 3}
    assert doc.line_of(("c",)) == 5
    assert doc.line_of(("b", 1)) == _composed_lines(text)[("b", 1)] == 3


def test_without_yaml_rs_pyyaml_reads_everything(monkeypatch):
    monkeypatch.setattr(documents, "yaml_rs", None)
    doc = parse_yaml(MANIFEST, "m.yaml")
    assert doc.source is None and doc.lines
    assert doc.line_of(("feature_sets", 1)) == 20


def test_repository_documents_read_the_same_on_both_paths():
    files = [
        p for folder in ("samples", "tests/data", "policies") for p in sorted((ROOT / folder).rglob("*.y*ml"))
    ]
    fast = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            continue  # the not-UTF-8 sample
        data = documents._fast_load(text) if text.strip() else documents._UNKNOWN
        if data is documents._UNKNOWN:
            continue
        fast += 1
        assert data == yaml.load(text, Loader=yaml.SafeLoader), path
        doc = Document(str(path), data, source=text)
        for pointer, line in _composed_lines(text).items():
            assert doc.line_of(pointer) == line, (path, pointer)
    assert fast >= 5


def test_validation_is_compiled_once_and_leaves_the_data_alone():
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "n": {"type": "integer", "default": 3}},
    }
    doc = parse_yaml("name: a\n", "f.yaml")
    validate(doc, schema)
    assert doc.data == {"name": "a"}  # no default written in
    assert documents._fast_check(schema) is documents._fast_check(schema)
    bad = parse_yaml("name: a\nn: x\n", "f.yaml")
    with pytest.raises(InputError, match=r"^f.yaml:2: n: wrong type: 'x' is not of type 'integer'"):
        validate(bad, schema)

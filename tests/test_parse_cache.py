"""The parse cache: a text read before is not parsed or validated again, and the cache
never changes what a document means or stops a read when it is broken."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from featmesh.connector import documents, parsecache
from featmesh.connector.errors import InputError
from featmesh.connector.sources.manifest import schema

from .conftest import PAYMENTS_MANIFEST


def _big_manifest(sets: int = 60, description: str = "Rolling counts of card transactions.") -> str:
    head = (
        "apiVersion: featmesh/v1\nstore: {name: payments, domain: payments, owner: payments-ml@contoso.com}\n"
    )
    head += (
        "entities:\n  - {name: customer, join_keys: [{name: customer_id, dtype: string}]}\nfeature_sets:\n"
    )
    body = "".join(
        f"  - name: set_{i:03d}\n    version: 1\n    description: {description}\n"
        f"    entities: [customer]\n    timestamp_field: event_ts\n    ttl: 2d\n"
        f"    sources:\n      - {{kind: delta, uri: main.payments.tx_{i}, columns: [customer_id, amount]}}\n"
        f"    features:\n      - {{name: amount_sum_{i}, dtype: float64, description: Sum of amounts.}}\n"
        for i in range(sets)
    )
    return head + body


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(parsecache.ENV, str(folder))
    return folder


def _rows(folder: Path, table: str) -> int:
    with sqlite3.connect(folder / "parsed-v1.db") as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_text_read_again_comes_from_the_cache_with_the_same_data_and_lines(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _big_manifest()
    assert len(text) >= parsecache.MIN_CHARS
    first = documents.parse_yaml(text, "a.yaml")
    documents.validate(first, schema())
    assert _rows(cache_dir, "parsed") == 1 and _rows(cache_dir, "valid") == 1

    def no_parse(_text: str) -> object:
        raise AssertionError("parsed again")

    monkeypatch.setattr(documents, "_fast_load", no_parse)
    monkeypatch.setattr(documents, "_fast_check", lambda _schema: no_parse(""))
    again = documents.parse_yaml(text, "b.yaml")
    documents.validate(again, schema())  # known valid: not checked again
    assert again.data == first.data
    assert again.line_of(("feature_sets", 59, "features", 0, "name")) == first.line_of(
        ("feature_sets", 59, "features", 0, "name")
    )
    assert again.path == "b.yaml"


def test_a_changed_byte_is_parsed_and_validated_again(cache_dir: Path) -> None:
    text = _big_manifest()
    documents.validate(documents.parse_yaml(text, "a.yaml"), schema())
    broken = text.replace("dtype: float64", "dtype: float65", 1)
    with pytest.raises(InputError) as err:
        documents.validate(documents.parse_yaml(broken, "a.yaml"), schema())
    assert "float65" in str(err.value) and err.value.where
    assert _rows(cache_dir, "valid") == 1  # the refused document is not marked valid


def test_a_document_pyyaml_must_read_is_not_kept(cache_dir: Path) -> None:
    text = _big_manifest(description="yes")  # YAML 1.1 reads a boolean: the composing path
    doc = documents.parse_yaml(text, "a.yaml")
    assert doc.data["feature_sets"][0]["description"] is True
    assert not (cache_dir / "parsed-v1.db").exists() or _rows(cache_dir, "parsed") == 0


def test_small_files_and_a_cache_turned_off_are_parsed_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(parsecache.ENV, "off")
    assert parsecache.cache_dir() is None
    assert documents.parse_yaml(_big_manifest(), "a.yaml").data["store"]["name"] == "payments"
    monkeypatch.setenv(parsecache.ENV, str(tmp_path / "c"))
    small = documents.parse_yaml(PAYMENTS_MANIFEST.format(store="s"), "s.yaml")
    assert small.digest is None and not (tmp_path / "c").exists()


def test_a_damaged_or_unwritable_cache_only_costs_a_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "parsed-v1.db").write_bytes(b"not a database, not at all" * 100)
    monkeypatch.setenv(parsecache.ENV, str(folder))
    doc = documents.parse_yaml(_big_manifest(), "a.yaml")
    documents.validate(doc, schema())
    assert doc.data["store"]["name"] == "payments"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv(parsecache.ENV, str(blocker / "below"))  # cannot be created
    assert documents.parse_yaml(_big_manifest(), "a.yaml").data == doc.data


def test_entries_of_another_parser_version_are_dropped(cache_dir: Path) -> None:
    text = _big_manifest()
    documents.parse_yaml(text, "a.yaml")
    assert _rows(cache_dir, "parsed") == 1
    other = parsecache.ParseCache(cache_dir, "another version")
    assert other.get(parsecache.text_digest(text)) is parsecache.MISS
    assert _rows(cache_dir, "parsed") == 0


def test_risky_scalars_still_go_to_pyyaml_after_unicode_separators() -> None:
    # RE2 runs the searches: a number token after a Unicode line separator is still seen
    for text in ("a:\u2028 010\n", "a:\x85 1e3\n", "a: [x,\u3000 0o7]\n"):
        assert documents._RISKY_NUMBER.search(text), text
    assert documents._RISKY_STRING.search("\nyes\n") and not documents._RISKY_STRING.search("\nyesno\n")


def test_a_damaged_entry_in_the_cache_meta_only_costs_a_parse(cache_dir: Path) -> None:
    text = _big_manifest()
    documents.parse_yaml(text, "a.yaml")
    with sqlite3.connect(cache_dir / "parsed-v1.db") as db:
        db.execute("UPDATE meta SET value = 'not a day' WHERE key = 'pruned'")
    fresh = parsecache.ParseCache(cache_dir, documents._cache_version())
    assert fresh.get(parsecache.text_digest(text)) is parsecache.MISS  # turned off, no error
    assert documents.parse_yaml(text, "b.yaml").data["store"]["name"] == "payments"


def test_the_cache_version_names_the_parser_the_validator_and_this_code() -> None:
    version = documents._cache_version()
    assert (
        "yaml-rs" in version and "fastjsonschema" in version and version.startswith(f"{parsecache.FORMAT}:")
    )


def test_a_nan_from_the_fast_parser_is_read_again_not_kept(cache_dir: Path) -> None:
    text = _big_manifest().replace("    ttl: 2d\n", "    ttl: 2d\n    tags: {ratio: .nan}\n", 1)
    for _ in range(2):
        ratio = documents.parse_yaml(text, "a.yaml").data["feature_sets"][0]["tags"]["ratio"]
        assert ratio != ratio  # NaN both times: JSON has no NaN to give back
    assert _rows(cache_dir, "parsed") == 0


@pytest.mark.parametrize(
    "data",
    [{1: "one"}, {"ratio": float("nan")}, {"text": "\ud800"}],
    ids=["integer-key", "nan", "lone-surrogate"],
)
def test_data_json_would_not_give_back_exactly_is_not_kept(cache_dir: Path, data: object) -> None:
    cache = parsecache.ParseCache(cache_dir, "v")
    cache.put("d" * 64, data)
    assert cache.get("d" * 64) is parsecache.MISS
    cache.put("e" * 64, {"kept": [1, 1.0, True, None, "é", 2**70]})
    back = cache.get("e" * 64)
    assert back == {"kept": [1, 1.0, True, None, "é", 2**70]}
    assert [type(v) for v in back["kept"]] == [int, float, bool, type(None), str, int]


def _checked_items(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The feature sets the fast check is asked about one by one."""
    seen: list[object] = []
    passes = documents._passes

    def counting(check: object, data: object) -> bool:
        if isinstance(data, dict) and "features" in data:
            seen.append(data["name"])
        return passes(check, data)

    monkeypatch.setattr(documents, "_passes", counting)
    return seen


def test_a_file_with_one_set_edited_checks_that_set_again_not_the_others(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _big_manifest()
    documents.validate(documents.parse_yaml(text, "a.yaml"), schema(), parts="feature_sets")
    assert _rows(cache_dir, "valid") == 1 + 60  # the document and each of its sets
    seen = _checked_items(monkeypatch)
    edited = text.replace("tx_7,", "tx_7b,", 1)
    documents.validate(documents.parse_yaml(edited, "a.yaml"), schema(), parts="feature_sets")
    assert seen == ["set_007"]
    seen.clear()
    documents.validate(documents.parse_yaml(edited + "\n", "b.yaml"), schema(), parts="feature_sets")
    assert seen == []  # a new text whose sets were all found valid before


def test_a_set_refused_in_parts_gives_the_error_of_the_whole_document(cache_dir: Path) -> None:
    text = _big_manifest()
    documents.validate(documents.parse_yaml(text, "a.yaml"), schema(), parts="feature_sets")
    kept = _rows(cache_dir, "valid")
    for broken in (
        text.replace("dtype: float64", "dtype: float65", 1),  # in a set
        text.replace("owner: payments-ml@contoso.com", "owner: 7", 1),  # beside the sets
        text.replace("apiVersion: featmesh/v1", "apiVersion: featmesh/v1\nextra: 1", 1),
    ):
        with pytest.raises(InputError) as in_parts:
            documents.validate(documents.parse_yaml(broken, "a.yaml"), schema(), parts="feature_sets")
        with pytest.raises(InputError) as whole:
            documents.validate(documents.parse_yaml(broken, "a.yaml"), schema())
        assert str(in_parts.value) == str(whole.value) and in_parts.value.where == whole.value.where
    assert _rows(cache_dir, "valid") == kept  # nothing refused is marked valid


def test_a_schema_that_constrains_the_array_is_checked_whole() -> None:
    base = {"type": "object", "properties": {"sets": {"type": "array", "items": {"type": "integer"}}}}
    assert documents._part_schema(base, "sets") == {"type": "integer"}
    assert documents._part_schema(schema(), "feature_sets") is not None
    bounded = {**base, "properties": {"sets": {"type": "array", "items": {}, "maxItems": 2}}}
    assert documents._part_schema(bounded, "sets") is None
    assert documents._part_schema({**base, "allOf": [{}]}, "sets") is None
    assert documents._part_schema(base, "other") is None

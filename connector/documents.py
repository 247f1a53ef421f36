"""Reading YAML and JSON documents with positions, and validating them with JSON Schema.

Every config, manifest, policy pack and waiver file goes through here, so that every
error names the file, the line and the path inside the document. Loading is bounded:
files over ``MAX_BYTES``, nesting deeper than ``MAX_DEPTH`` and alias expansion past
``MAX_NODES`` are refused rather than allowed to exhaust memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from featmesh.connector.errors import InputError

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 500_000

Pointer = tuple[Any, ...]


@dataclass
class Document:
    """A parsed document and the line of each node in it (1-based)."""

    path: str
    data: Any
    lines: dict[Pointer, int] = field(default_factory=dict)

    def line_of(self, pointer: Iterable[Any]) -> int | None:
        """The line of the deepest node on ``pointer`` that has a known position."""
        parts = tuple(pointer)
        while True:
            if parts in self.lines:
                return self.lines[parts]
            if not parts:
                return None
            parts = parts[:-1]

    def error(self, message: str, pointer: Iterable[Any] = ()) -> InputError:
        parts = tuple(pointer)
        line = self.line_of(parts)
        where = f"{line}" if line else None
        place = format_pointer(parts)
        return InputError(f"{place}: {message}" if place else message, path=self.path, where=where)


def format_pointer(pointer: Iterable[Any]) -> str:
    """``('features', 3, 'dtype')`` -> ``features[3].dtype``."""
    text = ""
    for part in pointer:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError("no such file", path=str(path)) from None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=str(path)) from None
    if path.is_dir():
        raise InputError("is a folder, expected a file", path=str(path))
    if size > MAX_BYTES:
        raise InputError(
            f"file is {size} bytes, more than the {MAX_BYTES} bytes featmesh reads", path=str(path)
        )
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=str(path)) from None
    if b"\x00" in raw:
        raise InputError("is a binary file, expected YAML or JSON text", path=str(path))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"is not UTF-8 text (byte {err.start}): expected YAML or JSON", path=str(path)
        ) from None


def load_yaml(path: Path | str, *, allow_empty: bool = False) -> Document:
    """Parse a YAML (or JSON) file into a Document with node positions."""
    path = Path(path)
    text = read_text(path)
    return parse_yaml(text, str(path), allow_empty=allow_empty)


def parse_yaml(text: str, name: str, *, allow_empty: bool = False) -> Document:
    if not text.strip():
        if allow_empty:
            return Document(name, None)
        raise InputError("file is empty", path=name)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = str(mark.line + 1) if mark else None
        problem = err.problem or err.context or "invalid YAML"
        raise InputError(f"invalid YAML: {problem}", path=name, where=line) from None
    except yaml.YAMLError as err:
        raise InputError(f"invalid YAML: {err}", path=name) from None
    except RecursionError:
        raise InputError("YAML is nested too deeply", path=name) from None
    if node is None:
        if allow_empty:
            return Document(name, None)
        raise InputError("file holds no document", path=name)
    doc = Document(name, None)
    builder = _Builder(doc)
    doc.data = builder.build(node, ())
    return doc


_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


class _Builder:
    """Turns a composed node tree into plain data, recording each node's line."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.nodes = 0
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, pointer: Pointer) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.doc.error(
                f"document expands to more than {MAX_NODES} nodes (aliases?); refusing to load it",
                pointer,
            )
        if len(pointer) > MAX_DEPTH:
            raise self.doc.error(f"nested more than {MAX_DEPTH} levels deep", pointer)
        self.doc.lines.setdefault(pointer, node.start_mark.line + 1)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
            # the safe constructor refuses such tags on scalars; collections are built here
            raise InputError(
                f"{format_pointer(pointer) or '(top level)'}: YAML tag {node.tag} is not allowed "
                "(plain mappings, lists and scalars only)",
                path=self.doc.path,
                where=str(node.start_mark.line + 1),
            )
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self.constructor.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    raise InputError(
                        "mapping keys must be plain scalars",
                        path=self.doc.path,
                        where=str(key_node.start_mark.line + 1),
                    )
                key = str(key) if not isinstance(key, str) else key
                if key in result:
                    place = format_pointer((*pointer, key))
                    raise InputError(
                        f"{place}: duplicate key '{key}'",
                        path=self.doc.path,
                        where=str(key_node.start_mark.line + 1),
                    )
                child = (*pointer, key)
                self.doc.lines[child] = key_node.start_mark.line + 1
                result[key] = self.build(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*pointer, i)) for i, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as err:
            raise self.doc.error(f"invalid value: {err.problem}", pointer) from None
        except ValueError as err:  # a timestamp-looking scalar that is no date: 2026-02-30
            raise self.doc.error(f"invalid value {node.value!r}: {err}", pointer) from None


# --------------------------------------------------------------------------- JSON Schema


def load_schema(package: str, name: str) -> dict[str, Any]:
    """A JSON Schema shipped as package data."""
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate(doc: Document, schema: Mapping[str, Any], *, limit: int = 5) -> None:
    """Raise an InputError naming the first few schema violations with their lines."""
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc.data), key=_error_order)
    if not errors:
        return
    first = errors[0]
    messages = [_describe(doc, e) for e in errors[:limit]]
    more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
    err = doc.error(_message(first), _pointer(first))
    if len(messages) > 1:
        err.message += "\n  " + "\n  ".join(messages[1:]) + more
    raise err


def _error_order(error: jsonschema.ValidationError) -> tuple[Any, ...]:
    return (len(error.absolute_path), [str(p) for p in error.absolute_path], error.message)


def _pointer(error: jsonschema.ValidationError) -> Pointer:
    """The error's path; for an unknown key, the path of that key (so its line is named)."""
    pointer = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            return (*pointer, extra[0])
    return pointer


def _describe(doc: Document, error: jsonschema.ValidationError) -> str:
    pointer = _pointer(error)
    line = doc.line_of(pointer)
    place = format_pointer(pointer) or "(top level)"
    return f"line {line}: {place}: {_message(error)}" if line else f"{place}: {_message(error)}"


def _message(error: jsonschema.ValidationError) -> str:
    best = jsonschema.exceptions.best_match([error])
    validator = best.validator
    if validator == "additionalProperties":
        return f"{best.message} (allowed: {', '.join(sorted(best.schema.get('properties', {})))})"
    if validator == "required":
        return f"missing required key: {best.message}"
    if validator == "type":
        return f"wrong type: {best.message}"
    description = _described(best)
    if validator in ("pattern", "oneOf", "anyOf", "enum", "const") and description:
        return f"{best.instance!r} is not valid: expected {description[0].lower()}{description[1:]}"
    return best.message


def _described(error: jsonschema.ValidationError) -> str | None:
    """The description of the nearest schema around a failed value, if any."""
    node: jsonschema.ValidationError | None = error
    while node is not None:
        if isinstance(node.schema, dict) and node.schema.get("description"):
            return str(node.schema["description"])
        node = node.parent
    return None

"""Reading YAML and JSON documents with positions, and validating them with JSON Schema.

Every config, manifest, policy pack and waiver file goes through here, so that every
error names the file, the line and the path inside the document. Loading is bounded:
files over ``MAX_BYTES``, nesting deeper than ``MAX_DEPTH`` and alias expansion past
``MAX_NODES`` are refused rather than allowed to exhaust memory.

Two parsers, one meaning. The happy path parses with ``yaml-rs`` (Rust) and looks up a
position only when a message or a finding asks for one (``Document.line_of``), from a
``rapidyaml`` tree of the same text built on that first call. featmesh's documents mean
what PyYAML's SafeLoader (YAML 1.1) makes of them: ``yes``/``on`` are booleans, ``010``
is octal, ``1e3`` is a string, a plain date is a date. Where the two schemas could
disagree (a plain scalar of one of those shapes, a tag, a merge key, several documents),
or the fast parser refuses the text, or a limit is reached, the document is read the
original way: PyYAML composes it with positions and every error comes from there, with
its file and line. Without the ``yaml-rs`` wheel everything goes that way.
"""

from __future__ import annotations

import bisect
import ctypes
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import re2
import yaml

try:
    import yaml_rs
except ImportError:  # no wheel for this platform: PyYAML reads everything
    yaml_rs = None  # type: ignore[assignment]
try:
    import ryml
except ImportError:
    ryml = None
try:
    import fastjsonschema
except ImportError:
    fastjsonschema = None  # type: ignore[assignment]

from featmesh.connector import parsecache
from featmesh.connector.errors import InputError

if TYPE_CHECKING:
    import jsonschema

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 500_000

Pointer = tuple[Any, ...]


@dataclass
class Document:
    """A parsed document and the line of each node in it (1-based).

    ``lines`` is filled when PyYAML composed the document. A document from the fast
    parser keeps its ``source`` instead and finds positions on demand, from the text
    alone: a document without its ``data`` (:meth:`positions`) still places every node."""

    path: str
    data: Any
    lines: dict[Pointer, int] = field(default_factory=dict)
    source: str | None = field(default=None, repr=False, compare=False)
    digest: str | None = field(default=None, repr=False, compare=False)
    """The text's digest when its data came from the fast parser (or the parse cache):
    a schema once found valid for it is not checked again (:func:`validate`)."""
    _locator: _Locator | None = field(default=None, init=False, repr=False, compare=False)

    def line_of(self, pointer: Iterable[Any]) -> int | None:
        """The line of the deepest node on ``pointer`` that has a known position."""
        parts = tuple(pointer)
        if self.source is not None:
            line = self._locate(parts)
            if line is not _UNKNOWN:
                return line  # type: ignore[return-value]
        while True:
            if parts in self.lines:
                return self.lines[parts]
            if not parts:
                return None
            parts = parts[:-1]

    def line_at(self, pointer: Iterable[Any]) -> int | None:
        """The line of the node at ``pointer``; None when the document has no such node."""
        parts = tuple(pointer)
        if self.source is not None:
            line = self._locate(parts, exact=True)
            if line is not _UNKNOWN:
                return line  # type: ignore[return-value]
        return self.lines.get(parts)

    def _locate(self, parts: Pointer, *, exact: bool = False) -> int | object | None:
        if self._locator is None and ryml is not None:
            self._locator = _Locator(self.source or "")
        if self._locator is not None:
            line = self._locator.line_of(parts, exact=exact)
            if line is not _UNKNOWN:
                return line
        # a shape the tree cannot place exactly: compose once, as without the fast parser
        text, self.source, self._locator = self.source or "", None, None
        try:
            node = yaml.compose(text, Loader=_COMPOSER)
            if node is not None:
                _Builder(self).build(node, ())
        except (yaml.YAMLError, InputError, RecursionError):
            pass
        return _UNKNOWN

    def positions(self) -> Document:
        """This document without its data, for the lines asked once its definitions are
        built: what a reader keeps of each file instead of the file's parsed content."""
        slim = Document(self.path, None, self.lines, self.source)
        slim._locator = self._locator
        return slim

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
    digest, data = _cached_load(text)
    if data is not _UNKNOWN:
        return Document(name, data, source=text, digest=digest)
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


_UNKNOWN = object()
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Where PyYAML's resolver (YAML 1.1) and yaml-rs (YAML 1.2 core) could read a plain scalar
# apart, the document goes to PyYAML. Two sides:
# * text yaml-rs leaves a string that 1.1 resolves: yes/no/on/off, "=" and "<<", dates
#   and timestamps (yaml-rs is asked not to parse them), numbers with "_" or ":" (1_000,
#   1:20). Every string of the parsed document, keys included, is checked, on one joined
#   text. A quoted "yes" is refused too: that only costs speed.
# * text yaml-rs reads as a number that 1.1 reads otherwise: exponents (1e3 is a string in
#   1.1), leading zeros (010 is octal in 1.1, 0o7 a string), leading dots and underscores
#   (+.5, _1), prefixes and separators yaml-rs accepts loosely (0X1, 1_0, 1:20). Any token
#   starting like one of these is searched in the source text; a match in a comment or a
#   quoted string only costs speed.
# Both searches run over every document the fast parser reads, so RE2 runs them (linear,
# no backtracking: ten times Python's ``re`` here). ``\s`` is spelled out as Python's
# ``str`` patterns read it (RE2's is ASCII only), so a token after a Unicode line or
# space separator is searched as before; a found separator consumes the newline that
# followed it, which only matters for where a match ends.
_RISKY_STRING = re2.compile(
    r"\n(?:(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|=|<<)\n"
    r"|[0-9]{4}-[0-9]"
    r"|[-+]?\.?[0-9][0-9_:.]*[_:][0-9_:.]*\n)"
)
_SPACE = (
    r"\t\n\v\f\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}"
    r"\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
)
_RISKY_NUMBER = re2.compile(
    rf"[{_SPACE}\[{{,:](?:!|[-+]?(?:[._][0-9_.]|0[0-9_]|[0-9][0-9_.]*[_xXoObBeE:]))"
)  # tags (!!str, !custom) too


def _cache() -> parsecache.ParseCache:
    return parsecache.shared(_cache_version())


@functools.cache
def _cache_version() -> str:
    """What a cached entry depends on besides the text: the parser's and the validator's
    versions, and this module's code (its limits and its searches decide what is kept)."""
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return (
        f"{parsecache.FORMAT}:yaml-rs {getattr(yaml_rs, '__version__', None)}"
        f":fastjsonschema {getattr(fastjsonschema, 'VERSION', None)}:{code}"
    )


def _cached_load(text: str) -> tuple[str | None, Any]:
    """The fast parser's data and the text's digest, from the parse cache when the same
    text was read before (:mod:`featmesh.connector.parsecache`)."""
    if yaml_rs is None or len(text) < parsecache.MIN_CHARS:
        return None, _fast_load(text)
    cache = _cache()
    digest = parsecache.text_digest(text)
    data = cache.get(digest)
    if data is parsecache.MISS:
        data = _fast_load(text)
        if data is not _UNKNOWN:
            cache.put(digest, data)
    return digest, data


def _fast_load(text: str) -> Any:
    """The document's data from the fast parser, or ``_UNKNOWN`` when PyYAML must read it."""
    if yaml_rs is None or "<<" in text or _several_documents(text):
        return _UNKNOWN
    try:
        if _RISKY_NUMBER.search(text):
            return _UNKNOWN
    except UnicodeEncodeError:  # a lone surrogate: RE2 reads UTF-8, PyYAML says what is wrong
        return _UNKNOWN
    try:
        data = yaml_rs.loads(
            text,
            parse_datetime=False,
            alias_limits=yaml_rs.AliasLimits(max_total_replayed_events=MAX_NODES),
            duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error,
        )
    except MemoryError:
        raise  # not a text PyYAML should try: composing it takes more
    except Exception:
        return _UNKNOWN
    if data is None:
        return _UNKNOWN
    strings = _strings_within_limits(data)
    if strings is None:
        return _UNKNOWN
    try:
        if _RISKY_STRING.search("\n" + "\n".join(strings) + "\n"):
            return _UNKNOWN
    except UnicodeEncodeError:
        return _UNKNOWN
    return data


def _several_documents(text: str) -> bool:
    """Directives or document markers: PyYAML decides what the stream holds."""
    return text.startswith(("%", "---", "...")) or "\n%" in text or "\n---" in text or "\n..." in text


def _strings_within_limits(data: Any) -> list[str] | None:
    """Every string of the document (keys too), or None past a limit the composing path
    checks (node count with aliases expanded, depth) or with a key that is no string."""
    nodes = 1
    strings: list[str] = []
    if type(data) is str:
        strings.append(data)
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if type(value) is dict:
            keys = list(value)
            if not all(type(k) is str for k in keys):
                return None  # 1: or true: keys: the composing path names them
            strings.extend(keys)
            children: Iterable[Any] = value.values()
        elif type(value) is list:
            children = value
        else:
            continue
        if not value:
            continue
        nodes += len(value)
        if depth >= MAX_DEPTH or nodes > MAX_NODES:
            return None
        for child in children:
            kind = type(child)
            if kind is str:
                strings.append(child)
            elif kind is dict or kind is list:
                stack.append((child, depth + 1))
    return strings


_NEWLINE = re.compile(b"\n")


class _PyBuffer(ctypes.Structure):
    """CPython's ``Py_buffer`` (its layout is part of the stable ABI)."""

    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.py_object),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]


def _address(obj: Any) -> int:
    """Where a buffer's bytes start in memory: rapidyaml gives a node's text as a read-only
    view into the parsed buffer, so the view's address less the buffer's is the node's
    offset (without numpy, whose import costs more than a pre-commit run can spare)."""
    view = _PyBuffer()
    _get_buffer(obj, ctypes.byref(view), 0)
    try:
        return int(view.buf or 0)
    finally:
        _release_buffer(ctypes.byref(view))


class _Locator:
    """Lines of nodes from a rapidyaml tree of the document's text (parsed on first use)."""

    def __init__(self, text: str):
        self.buffer = bytearray(text.encode("utf-8"))
        self.newlines = [m.start() for m in _NEWLINE.finditer(self.buffer)]
        try:
            self.tree: Any = ryml.parse_in_place(self.buffer)
        except MemoryError:
            raise
        except Exception:
            self.tree = None
        self.base = _address(self.buffer)
        self._walked: dict[Pointer, tuple[int, Any]] = {}
        """(tree node, text it starts with) of each pointer a lookup walked through: the
        next lookup below it starts there (a finding on each of a set's 40 features walks
        from the set's ``features``, not from the root)."""

    def _line(self, view: Any) -> int | object:
        if view is _UNKNOWN or view is None or len(view) == 0:
            return _UNKNOWN
        offset = _address(view) - self.base
        if not 0 <= offset < len(self.buffer):
            return _UNKNOWN
        return bisect.bisect_right(self.newlines, offset) + 1

    def _start(self, node: int) -> Any:
        """The text a node starts with (its line is PyYAML's start mark), or _UNKNOWN."""
        tree = self.tree
        if tree.is_ref(node) or tree.has_val_anchor(node) or tree.has_val_tag(node):
            return _UNKNOWN
        if tree.is_container(node):
            if tree.is_flow_ml(node):
                return _UNKNOWN
            first = tree.first_child(node)
            if first == ryml.NONE:
                return _UNKNOWN
            return self._key(first) if tree.is_map(node) else self._start(first)
        if tree.is_val_literal(node) or tree.is_val_folded(node) or tree.val_is_null(node):
            return _UNKNOWN
        return tree.val(node)

    def _key(self, node: int) -> Any:
        if self.tree.has_key_anchor(node) or self.tree.has_key_tag(node):
            return _UNKNOWN
        return self.tree.key(node)

    def line_of(self, parts: Pointer, *, exact: bool = False) -> int | object | None:
        """The line of the node at ``parts``, or of the deepest node on it that the document
        has (``exact``: None); only the last node's offset becomes a line (a lookup walks a
        few levels of a large document, once per finding). It needs the tree, not the data."""
        tree = self.tree
        if tree is None:
            return _UNKNOWN
        walked = self._walked
        start = len(parts) - 1
        hit = None
        while start >= 0:  # the deepest node on the way an earlier lookup walked through
            hit = walked.get(parts[:start])
            if hit is not None:
                break
            start -= 1
        if hit is not None:
            node, view = hit
        else:
            node = tree.root_id()
            if tree.is_stream(node):
                return _UNKNOWN
            view = self._start(node)
            start = 0
        for depth in range(start, len(parts)):
            part = parts[depth]
            walked.setdefault(parts[:depth], (node, view))
            if tree.is_ref(node):
                return _UNKNOWN  # an alias: its nodes are written where its anchor is
            if isinstance(part, str) and tree.is_map(node):
                child = tree.find_child(node, part.encode("utf-8"))
                if child == ryml.NONE:
                    return None if exact else self._line(view)
                view = self._key(child)
            elif type(part) is int and tree.is_seq(node) and 0 <= part < tree.num_children(node):
                child = tree.child(node, part)
                if child == ryml.NONE:
                    return _UNKNOWN
                view = self._start(child)
            else:
                return None if exact else self._line(view)
            if view is _UNKNOWN or view is None or len(view) == 0:
                return _UNKNOWN
            node = child
        return self._line(view)


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


def validate(doc: Document, schema: Mapping[str, Any], *, limit: int = 5, parts: str | None = None) -> None:
    """Raise an InputError naming the first few schema violations with their lines.

    ``parts``: a top-level array (a manifest's ``feature_sets``) whose items are checked
    and remembered one by one, each by its own digest, when the document's text is new:
    a file of a hundred sets with one set edited checks that one again, not the hundred."""
    cache = _cache() if doc.digest is not None else None
    if cache is not None and cache.valid(doc.digest, schema):  # type: ignore[arg-type]
        return
    check = _fast_check(schema)
    if check is not None:
        if cache is not None and parts is not None:
            passed = _passes_in_parts(doc.data, schema, parts, check, cache)
        else:
            passed = _passes(check, doc.data)
        if passed:
            if cache is not None:
                cache.mark_valid(doc.digest, schema)  # type: ignore[arg-type]
            return
        # else jsonschema finds and describes the violations
    errors = sorted(_validator(schema).iter_errors(doc.data), key=_error_order)
    if not errors:
        return
    first = errors[0]
    messages = [_describe(doc, e) for e in errors[:limit]]
    more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
    err = doc.error(_message(first), _pointer(first))
    if len(messages) > 1:
        err.message += "\n  " + "\n  ".join(messages[1:]) + more
    raise err


def _passes(check: Any, data: Any) -> bool:
    try:
        check(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


_SPLITTABLE = frozenset(
    {"$schema", "$id", "title", "description", "type"}
    | {"additionalProperties", "required", "properties", "$defs"}
)
"""The keywords a schema may use at its top level for its ``parts`` to be checked apart:
none of them says anything of an array's items beyond the array's own ``items``."""


def _part_schema(schema: Mapping[str, Any], parts: str) -> dict[str, Any] | None:
    """The schema each item of the top-level array ``parts`` must meet, standing alone (its
    references resolved against the whole schema's ``$defs``); None when the array's items
    cannot be checked apart from the rest (another keyword constrains the array or the
    whole document)."""
    prop = (schema.get("properties") or {}).get(parts)
    if not set(schema) <= _SPLITTABLE or not isinstance(prop, Mapping):
        return None
    if not set(prop) <= {"type", "items", "description"} or prop.get("type") != "array":
        return None
    items = prop.get("items")
    if not isinstance(items, Mapping):
        return None
    standalone = {k: schema[k] for k in ("$schema", "$defs") if k in schema}
    return {**standalone, **items}


_PART_SCHEMAS: dict[tuple[int, str], tuple[Mapping[str, Any], dict[str, Any] | None]] = {}


def _passes_in_parts(data: Any, schema: Mapping[str, Any], parts: str, check: Any, cache: Any) -> bool:
    """Whether ``data`` meets ``schema``, with the items of ``parts`` found valid before
    not checked again: the rest of the document is checked with an empty array in their
    place, each other item against the items' schema (and remembered)."""
    held = _PART_SCHEMAS.get((id(schema), parts))
    if held is None or held[0] is not schema:
        if len(_PART_SCHEMAS) >= 64:
            _PART_SCHEMAS.pop(next(iter(_PART_SCHEMAS)))
        held = _PART_SCHEMAS[(id(schema), parts)] = (schema, _part_schema(schema, parts))
    part_schema = held[1]
    items = data.get(parts) if isinstance(data, dict) else None
    part_check = _fast_check(part_schema) if part_schema is not None else None
    if part_check is None or not isinstance(items, list) or len(items) < 2:
        return _passes(check, data)
    if not _passes(check, {**data, parts: []}):
        return False
    import msgspec

    try:  # data from the fast parser is JSON: its encoding tells its items apart, types too
        digests = [hashlib.sha256(msgspec.json.encode(item)).hexdigest() for item in items]
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
        return _passes(check, data)
    known = cache.valid_among(list(dict.fromkeys(digests)), part_schema)
    checked: set[str] = set()
    for digest, item in zip(digests, items, strict=True):
        if digest in known or digest in checked:
            continue
        if not _passes(part_check, item):
            return False
        checked.add(digest)
    cache.mark_all_valid(checked, part_schema)
    return True


_VALIDATORS: dict[int, tuple[Mapping[str, Any], Any]] = {}


def _validator(schema: Mapping[str, Any]) -> Any:
    """One validator per schema per process (a schema's references are resolved once)."""
    cached = _VALIDATORS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    import jsonschema  # only where a document is refused, or a schema has no fast check

    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    if len(_VALIDATORS) >= 64:  # schemas built per call must not pile up
        _VALIDATORS.pop(next(iter(_VALIDATORS)))
    _VALIDATORS[id(schema)] = (schema, validator)
    return validator


_FAST_CHECKS: dict[int, tuple[Mapping[str, Any], Any]] = {}


def _fast_check(schema: Mapping[str, Any]) -> Any:
    """A compiled validator for the happy path (fastjsonschema), or None without one.

    It only says yes or no: a document it refuses is validated again by jsonschema, whose
    errors are the ones reported, so messages and lines stay the same."""
    if fastjsonschema is None:
        return None
    cached = _FAST_CHECKS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    try:
        check = fastjsonschema.compile(dict(schema), use_default=False, fast_fail=True)
    except Exception:
        check = None
    if len(_FAST_CHECKS) >= 64:
        _FAST_CHECKS.pop(next(iter(_FAST_CHECKS)))
    _FAST_CHECKS[id(schema)] = (schema, check)
    return check


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
    import jsonschema

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

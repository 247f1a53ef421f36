"""Feathr definitions (sources, anchors, derivations) -> the neutral model.

An anchor becomes a feature set keyed by its ``key`` (or ``key.sqlExpr``) and reading
its source; a derivation becomes a derived feature set whose parents are the sets
that define its input features. Inputs no anchor or derivation defines are reported,
and the derived set is kept with the lineage that could be resolved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from featmesh.connector.model import (
    BATCH,
    DERIVED,
    STREAM,
    Feature,
    FeatureSet,
    FeatureSetRef,
    KeyColumn,
    Origin,
    SourceRef,
    normalize_dtype,
)
from featmesh.connector.model import PASSTHROUGH as PASSTHROUGH_KIND
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources.common import infer_source_kind, parse_duration
from featmesh.connector.sources.feathr import KIND
from featmesh.connector.sources.localfiles import located

PASSTHROUGH = "PASSTHROUGH"
NO_KEY = "NOT_NEEDED"

_LEGACY_TYPES = {
    "BOOLEAN": "bool",
    "NUMERIC": "float32",
    "CATEGORICAL": "string",
    "CATEGORICAL_SET": "array<string>",
    "DENSE_VECTOR": "array<float32>",
    "TERM_VECTOR": "map",
}
_SECRET_PARAM = re.compile(
    r"([?&;](?:password|pwd|secret|token|sfpassword|accesskey|sig)=)[^&;]*", re.IGNORECASE
)
_USERINFO = re.compile(r"(://[^/:@\s]+:)[^/@\s]+@")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_IDENT = re.compile(r"(?<![\w.$])(?![A-Z]\w*\s*\.)([A-Za-z_]\w*)(?!\s*\()(?![\w])")
"""Names an expression reads; a capitalised name before a dot is a Java class whose
member is called (``Math.log(x)``), not an input."""
_WORDS = {
    "true",
    "false",
    "null",
    "nil",
    "and",
    "or",
    "not",
    "if",
    "else",
    "then",
    "in",
    "is",
    "case",
    "when",
    "end",
    "as",
    "new",
    "return",
    "def",
    "this",
    "empty",
}
_SIMPLE_COLUMN = re.compile(r"^[A-Za-z_]\w*$")


@dataclass(frozen=True, kw_only=True)
class Located:
    """A named definition and where it was read."""

    name: str
    raw: Any
    origin: Origin


def redact(uri: str) -> str:
    """A URI with password-like query parameters and user-info passwords masked."""
    return _USERINFO.sub(r"\1***@", _SECRET_PARAM.sub(r"\1***", uri))


def source_ref(item: Located) -> SourceRef | None:
    """A Feathr source as a source reference; None for a passthrough source."""
    raw = item.raw if isinstance(item.raw, dict) else {"location": {"path": item.raw}}
    if str(raw.get("type", "")).upper() == PASSTHROUGH:
        return None
    location = raw.get("location", {})
    if isinstance(location, str):
        location = {"path": location}
    window = raw.get("timeWindowParameters") or {}
    timestamp = window.get("timestampColumn") or window.get("timestamp")
    fmt = window.get("timestampColumnFormat") or window.get("timestamp_format")
    extra: dict[str, Any] = {"feathr_source": item.name}
    if fmt:
        extra["timestamp_format"] = fmt
    if str(location.get("type", "")).lower() == "jdbc" or "url" in location:
        uri = redact(str(location.get("url", "")))
        extra.update({k: location[k] for k in ("dbtable", "query", "auth") if k in location})
        table = location.get("dbtable")
        return SourceRef(
            kind="jdbc",
            uri=uri,
            name=str(table) if table else item.name,
            timestamp_field=timestamp,
            extra=extra,
        )
    if "path" in location:
        uri = redact(str(location["path"]))
        ref = SourceRef(
            kind=infer_source_kind(uri),
            uri=uri,
            name=item.name,
            timestamp_field=timestamp,
            extra=extra,
        )
        return located(ref, Path(item.origin.path).parent)  # a relative path: beside its conf
    kind = str(raw.get("type") or location.get("type") or "custom").lower()
    extra["config"] = {k: v for k, v in raw.items() if k not in ("timeWindowParameters",)}
    return SourceRef(kind=kind, uri=item.name, name=item.name, timestamp_field=timestamp, extra=extra)


def dtype_of(raw: Any) -> tuple[str, str | None]:
    """``(dtype, raw spelling)`` of a Feathr feature type (legacy name or tensor spec)."""
    if raw is None:
        return "unknown", None
    if isinstance(raw, str):
        return _LEGACY_TYPES.get(raw.upper(), normalize_dtype(raw)), raw
    if not isinstance(raw, dict):
        return "unknown", str(raw)
    if str(raw.get("type", "")).upper() != "TENSOR":
        return dtype_of(raw.get("type"))
    dims = raw.get("dimensionType") or []
    value = str(raw.get("valType", ""))
    spelling = f"TENSOR<{raw.get('tensorCategory', 'DENSE')}>[{','.join(map(str, dims))}]:{value}"
    scalar = normalize_dtype(value)
    if not dims:
        return scalar, spelling
    if len(dims) == 1:
        return normalize_dtype(f"array<{value}>"), spelling
    return "array<unknown>", spelling


def _def_text(raw: Any) -> tuple[str | None, str]:
    """The definition expression and its language (``mvel`` or ``sql``)."""
    if isinstance(raw, dict):
        sql = raw.get("sqlExpr")
        return (str(sql), "sql") if sql is not None else (None, "mvel")
    return (str(raw), "mvel") if raw is not None else (None, "mvel")


def feature(name: str, raw: Any, report: SourceReport, where: str) -> Feature:
    spec = raw if isinstance(raw, dict) else {"def": raw}
    definition, language = _def_text(spec.get("def"))
    dtype, raw_type = dtype_of(spec.get("type"))
    extra: dict[str, Any] = {k: v for k, v in spec.items() if k != "def"}
    if definition is not None:
        extra["def_language"] = language
    if "window" in spec:
        try:
            extra["window_seconds"] = parse_duration(str(spec["window"]))
        except ValueError:
            report.warn(f"{where}: feature '{name}' has a window {spec['window']!r} that is not a duration")
    columns = (definition,) if definition and _SIMPLE_COLUMN.match(definition) else ()
    return Feature(
        name=name,
        dtype=dtype,
        raw_type=raw_type,
        transformation=definition,
        source_columns=columns,
        extra=extra,
    )


_KEY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def join_keys(raw: Any, alias: Any = None) -> tuple[KeyColumn, ...]:
    """``key: x``, ``key: [x, y]`` or ``key.sqlExpr: [...]``; NOT_NEEDED means none.

    A key that is an expression (MVEL ``substring(x, 0)``, a SQL expression) stays an
    expression (``KeyColumn.expression``); it is named by its ``keyAlias`` where the
    anchor gives one, else by the expression itself.
    """
    if isinstance(raw, dict):
        raw = raw.get("sqlExpr", raw.get("mvel"))
    values = [str(v) for v in (raw if isinstance(raw, list) else [raw] if raw is not None else [])]
    aliases = [str(a) for a in (alias if isinstance(alias, list) else [alias] if alias is not None else [])]
    keys = []
    for i, value in enumerate(values):
        if value == NO_KEY:
            continue
        if _KEY_NAME.match(value):
            keys.append(KeyColumn(name=value))
        else:
            keys.append(KeyColumn(name=aliases[i] if i < len(aliases) else value, expression=value))
    return tuple(keys)


def anchor_set(
    store: str, item: Located, sources: Mapping[str, SourceRef | None], report: SourceReport
) -> FeatureSet:
    raw = item.raw if isinstance(item.raw, dict) else {}
    where = str(item.origin)
    source_name = raw.get("source")
    refs: tuple[SourceRef, ...] = ()
    extra: dict[str, Any] = {"definition": "anchor", "passthrough": False}
    if source_name is None or str(source_name).upper() == PASSTHROUGH:
        extra["passthrough"] = True
        report.count("passthrough_anchors")
    elif source_name in sources:
        ref = sources[source_name]
        refs = (ref,) if ref is not None else ()
        extra["passthrough"] = ref is None
    else:  # an anchor may name a path directly instead of a declared source
        text = redact(str(source_name))
        refs = (located(SourceRef(kind=infer_source_kind(text), uri=text), Path(item.origin.path).parent),)
    extra.update({k: v for k, v in raw.items() if k not in ("features", "key", "source")})
    extra["source"] = source_name
    if raw.get("keyExtractor"):
        extra["key_extractor"] = str(raw["keyExtractor"])
    raw_features = raw.get("features") or {}
    if isinstance(raw_features, list):  # extractor-based anchors list names only
        extractors = {"extractor": raw.get("extractor"), "key_extractor": raw.get("keyExtractor")}
        features = tuple(
            Feature(
                name=str(n),
                extra={k: v for k, v in extractors.items() if v},
            )
            for n in raw_features
        )
    else:
        features = tuple(feature(n, spec, report, where) for n, spec in raw_features.items())
    return FeatureSet(
        store_kind=KIND,
        store=store,
        name=item.name,
        kind=PASSTHROUGH_KIND if extra["passthrough"] is True else _kind_of(refs),
        join_keys=join_keys(raw.get("key"), raw.get("keyAlias")),
        timestamp_field=next((r.timestamp_field for r in refs if r.timestamp_field), None),
        features=features,
        sources=refs,
        extra=extra,
        origin=item.origin,
    )


def derivation_inputs(raw: Any) -> list[str]:
    """The feature names a derivation reads, in order of first use."""
    if not isinstance(raw, dict):
        return _identifiers(str(raw))
    names: list[str] = []
    inputs = raw.get("inputs")
    if isinstance(inputs, dict):
        inputs = list(inputs.values())
    for entry in inputs or []:
        names.append(str(entry.get("feature")) if isinstance(entry, dict) else str(entry))
    join = raw.get("join")
    if isinstance(join, dict):
        for part in ("base", "expansion"):
            if isinstance(join.get(part), dict) and join[part].get("feature"):
                names.append(str(join[part]["feature"]))
    if not names and raw.get("definition") is not None:
        names = _identifiers(_def_text(raw["definition"])[0] or "")
    return list(dict.fromkeys(names))


def _identifiers(expression: str) -> list[str]:
    """Names an expression reads: identifiers that are not calls, members or keywords."""
    text = _STRING.sub(" ", expression)
    found = [m for m in _IDENT.findall(text) if m.lower() not in _WORDS]
    return list(dict.fromkeys(found))


def derived_set(store: str, item: Located, owners: Mapping[str, str], report: SourceReport) -> FeatureSet:
    raw = item.raw
    spec = raw if isinstance(raw, dict) else {"definition": raw}
    inputs = derivation_inputs(raw)
    missing = [n for n in inputs if n not in owners]
    if missing:
        report.warn(
            f"{item.origin}: derivation '{item.name}' uses {', '.join(repr(m) for m in missing)}, "
            "which no anchor or derivation defines; its lineage to them is left out"
        )
        report.count("unresolved_derivation_inputs", len(missing))
    parents = list(dict.fromkeys(owners[n] for n in inputs if n in owners and owners[n] != item.name))
    definition, language = _def_text(spec.get("definition"))
    dtype, raw_type = dtype_of(spec.get("type"))
    derived = Feature(
        name=item.name,
        dtype=dtype,
        raw_type=raw_type,
        transformation=definition,
        extra={"def_language": language} if definition is not None else {},
    )
    return FeatureSet(
        store_kind=KIND,
        store=store,
        name=item.name,
        kind=DERIVED,
        join_keys=join_keys(spec.get("key")),
        features=(derived,),
        derived_from=tuple(FeatureSetRef(store_kind=KIND, store=store, name=p) for p in parents),
        extra={
            "definition": "derivation",
            "inputs": inputs,
            "unresolved_inputs": missing,
            **{k: v for k, v in spec.items() if k not in ("definition", "type", "key")},
        },
        origin=item.origin,
    )


_STREAMS = frozenset({"kafka", "eventhub", "eventhubs", "kinesis"})


def _kind_of(refs: tuple[SourceRef, ...]) -> str:
    return STREAM if refs and all(r.kind in _STREAMS for r in refs) else BATCH


def inherit_keys(sets: list[FeatureSet]) -> list[FeatureSet]:
    """Derivations that declare no key take their inputs' key (Feathr does: a simple
    expression derivation such as ``isPresent(anchoredF1) ? ...`` is keyed like
    ``anchoredF1``), when every input set agrees on it; chains resolve in order."""
    by_name = {fs.name: fs for fs in sets}
    resolved: dict[str, tuple[KeyColumn, ...]] = {}

    def keys_of(name: str, seen: frozenset[str]) -> tuple[KeyColumn, ...]:
        fs = by_name.get(name)
        if fs is None or name in seen:
            return ()
        if fs.join_keys or fs.kind != DERIVED:
            return fs.join_keys
        if name not in resolved:
            found = {keys_of(r.name, seen | {name}) for r in fs.derived_from}
            found.discard(())
            resolved[name] = found.pop() if len(found) == 1 else ()
        return resolved[name]

    out = []
    for fs in sets:
        if fs.kind == DERIVED and not fs.join_keys and fs.derived_from:
            keys = keys_of(fs.name, frozenset())
            if keys:
                fs = replace(fs, join_keys=keys, extra={**fs.extra, "keys_inherited": True})
        out.append(fs)
    return out

"""``featmesh.yaml``: what a scheduled scan reads, where it publishes, what it checks.

Validated at the door with the JSON Schema shipped in ``connector/schema`` (unknown
keys are refused with the file, the line and the path inside it). Paths in the file
are relative to the file. Credentials are named, never given: a source's ``env`` maps
the variable a reader expects (``DATABRICKS_TOKEN``) to the variable that holds it in
the scheduler's environment (``DBX_PAYMENTS_TOKEN``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from featmesh.connector import redact
from featmesh.connector.catalog import check_uri
from featmesh.connector.documents import Document, load_schema, load_yaml, validate
from featmesh.connector.errors import InputError
from featmesh.connector.mapping.rules import DEFAULT_RULES, MappingRule
from featmesh.connector.sources import SourceSpec, parse_source

DEFAULT_NAME = "featmesh.yaml"


@cache
def schema() -> dict[str, Any]:
    return load_schema("featmesh.connector", "schema/config.schema.json")


@dataclass(frozen=True, kw_only=True)
class Config:
    path: Path
    sources: tuple[SourceSpec, ...]
    catalog: str | None = None
    catalog_env: Mapping[str, str] = field(default_factory=dict)
    batch_size: int | None = None
    keep_deleted: bool = False
    catalog_settings: Mapping[str, Any] = field(default_factory=dict)
    """Remote catalog options from ``catalog:`` (``collections``, ``operations_per_second``)."""
    domains: Mapping[str, str] = field(default_factory=dict)
    source_domains: Mapping[str, str] = field(default_factory=dict)
    """Source URI -> the domain of every feature set it yields."""
    rules: tuple[MappingRule, ...] = DEFAULT_RULES
    packs: tuple[str, ...] = ()
    waivers: Path | None = None
    fail_on: str | None = None
    fail_on_line: int | None = None
    """The line of ``policies.fail_on`` in the file, for the exit line that cites it."""
    profile: bool = False
    sample_rows: int | None = None
    profile_remote: bool = False
    profile_engine: str | None = None
    """``profiling.engine`` (None: not set, the pyarrow profiler unless a source says otherwise)."""
    spark_master: str | None = None
    warehouse_id: str | None = None
    databricks_host: str | None = None
    source_profiling: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Source URI -> that source's own ``profiling`` keys (engine, warehouse_id...)."""
    report_format: str | None = None
    report_output: Path | None = None
    contracts: tuple[Path, ...] = ()
    """Data contract files or folders (ODCS v3)."""


def load_config(path: Path | str) -> Config:
    path = Path(path)
    doc = load_yaml(path)
    validate(doc, schema())
    data = doc.data
    base = path.parent
    sources = []
    source_domains: dict[str, str] = {}
    source_profiling: dict[str, dict[str, str]] = {}
    for i, raw in enumerate(data["sources"]):
        spec = _source(doc, i, raw, base)
        sources.append(spec)
        if raw.get("domain"):
            source_domains[spec.uri] = raw["domain"]
        if raw.get("profiling"):
            source_profiling[spec.uri] = dict(raw["profiling"])
    catalog = data.get("catalog", {})
    if catalog.get("uri"):
        try:
            check_uri(catalog["uri"])
        except InputError as err:
            raise doc.error(err.message, ("catalog", "uri")) from None
    for holder in catalog.get("env", {}).values():
        redact.register_variable(holder)
    policies = data.get("policies", {})
    profiling = data.get("profiling", {})
    report = data.get("report", {})
    return Config(
        path=path,
        sources=tuple(sources),
        catalog=_catalog_uri(catalog.get("uri"), base),
        catalog_env=dict(catalog.get("env", {})),
        batch_size=catalog.get("batch_size"),
        keep_deleted=bool(catalog.get("keep_deleted", False)),
        catalog_settings=_catalog_settings(catalog),
        domains=dict(data.get("domains", {})),
        source_domains=source_domains,
        rules=(*_rules(doc), *DEFAULT_RULES),
        packs=tuple(_pack(p, base) for p in policies.get("packs", [])),
        waivers=base / policies["waivers"] if "waivers" in policies else None,
        fail_on=policies.get("fail_on"),
        fail_on_line=doc.line_of(("policies", "fail_on")) if "fail_on" in policies else None,
        profile=bool(profiling.get("enabled", False)),
        sample_rows=profiling.get("sample_rows"),
        profile_remote=bool(profiling.get("remote", False)),
        profile_engine=profiling.get("engine"),
        spark_master=profiling.get("spark_master"),
        warehouse_id=profiling.get("warehouse_id"),
        databricks_host=profiling.get("databricks_host"),
        source_profiling=source_profiling,
        report_format=report.get("format"),
        report_output=base / report["output"] if "output" in report else None,
        contracts=tuple(base / c for c in data.get("contracts", ())),
    )


def _source(doc: Document, i: int, raw: Mapping[str, Any], base: Path) -> SourceSpec:
    uri = raw["uri"]
    kind, sep, rest = uri.partition(":")
    if sep and "://" not in rest and len(kind) > 1 and "/" not in kind:
        uri = f"{kind}:{base / rest}"
    elif not sep or len(kind) == 1:
        uri = str(base / uri)
    try:
        options: dict[str, Any] = {}
        if raw.get("env"):
            options["env"] = dict(raw["env"])
        if raw.get("store"):
            options["store"] = raw["store"]
        spec = parse_source(uri, options or None)
    except InputError as err:
        raise doc.error(
            err.message if not err.path else f"{err.path}: {err.message}", ("sources", i, "uri")
        ) from None
    return spec


def _catalog_settings(catalog: Mapping[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    collections = catalog.get("collections") or {}
    if collections.get("domains"):
        settings["collections"] = dict(collections["domains"])
    if collections.get("default"):
        settings["default_collection"] = collections["default"]
    if catalog.get("timeout") is not None:
        settings["timeout"] = float(catalog["timeout"])
    if catalog.get("operations_per_second") is not None:
        settings["operations_per_second"] = float(catalog["operations_per_second"])
    if catalog.get("owners"):
        settings["owners"] = {str(k): str(v) for k, v in catalog["owners"].items()}
    if catalog.get("owner_lookup"):
        settings["owner_lookup"] = catalog["owner_lookup"]
    return settings


def _catalog_uri(uri: str | None, base: Path) -> str | None:
    if uri and uri.startswith("local:") and len(uri) > len("local:"):
        return f"local:{os.path.normpath(base / uri[len('local:') :])}"  # as printed: no 'samples/../'
    return uri


def _rules(doc: Document) -> list[MappingRule]:
    rules = []
    for i, raw in enumerate(doc.data.get("data_products", [])):
        try:
            rules.append(MappingRule.from_config(raw))
        except InputError as err:
            raise doc.error(err.message, ("data_products", i, "match")) from None
    return rules


def _pack(value: str, base: Path) -> str:
    """A built-in pack name stays a name; anything that looks like a file is a path."""
    if value.endswith((".yaml", ".yml")) or "/" in value:
        return str(base / value)
    return value

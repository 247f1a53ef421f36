"""``featmesh contract diff OLD NEW``: a data contract's breaking changes and their ML impact;
``featmesh contract export SOURCES``: an ODCS v3 contract per feature set.

OLD and NEW are two versions of an ODCS v3 contract. Each breaking change (a removed
object or column, a changed type, a renamed table, a deprecated status, a weaker freshness
promise) is traced through the catalog: the feature sets reading that table (and, for a
column, the features computed from it), then everything downstream of them, models and
endpoints included, with their owners. Exit 1 when anything downstream breaks, so a
producer's CI can gate a release on it; 0 when nothing does; 2 on bad input.

``export`` reads SOURCES (or a featmesh.yaml's) and writes one contract per feature set
(:mod:`featmesh.connector.contracts.export`) into a folder, or prints them to stdout as one
YAML stream. Nothing is written when a source cannot be read (exit 2 on bad input, 3 when a
store cannot be read).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from featmesh.connector.catalog import open_catalog
from featmesh.connector.cli import Handled
from featmesh.connector.commands.options import catalog_option, timeout_option, timeout_settings
from featmesh.connector.contracts import diff, load_contract
from featmesh.connector.contracts.impact import break_impact
from featmesh.connector.mapping.graph import MeshGraph


@click.group()
def contract() -> None:
    """Data contracts (ODCS v3) of source data products."""


def _text(document: dict[str, Any]) -> str:
    lines = [f"contract {document['contract']}: {document['old']} -> {document['new']}"]
    if not document["breaks"]:
        lines.append("  no breaking change")
    for item in document["breaks"]:
        lines.append(f"  {item['table']}: {item['message']}")
        names = [r["name"] + (f"@{r['version']}" if r.get("version") else "") for r in item["feature_sets"]]
        models = [r["name"] for r in item["models"] + item["serving_endpoints"]]
        lines.append(f"    feature sets: {', '.join(names) or 'none'}; models: {', '.join(models) or 'none'}")
        if item["owners"]:
            lines.append(f"    owners: {', '.join(item['owners'])}")
    return "\n".join(lines)


def _markdown(document: dict[str, Any]) -> str:
    out = [f"### Contract `{document['contract']}` {document['old']} -> {document['new']}", ""]
    if not document["breaks"]:
        return "\n".join([*out, "No breaking change."]) + "\n"
    out += [
        "| table | change | feature sets | models and endpoints | owners |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in document["breaks"]:
        sets = ", ".join(f"`{r['name']}`" for r in item["feature_sets"]) or "-"
        models = ", ".join(f"`{r['name']}`" for r in item["models"] + item["serving_endpoints"]) or "-"
        owners = ", ".join(item["owners"]) or "-"
        out.append(f"| `{item['table']}` | {item['message']} | {sets} | {models} | {owners} |")
    return "\n".join(out) + "\n"


@contract.command("diff", cls=Handled)
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@catalog_option("The catalog whose feature sets and models read the contract's tables (read-only).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@timeout_option
def diff_command(
    old: str, new: str, catalog_uri: str | None, fmt: str, as_json: bool, timeout: float | None = None
) -> None:
    """Report OLD -> NEW's breaking changes with the feature sets, models and owners they break."""
    before, after = load_contract(old), load_contract(new)
    store = open_catalog(catalog_uri, read_only=True, **timeout_settings(timeout))
    try:
        graph = MeshGraph.from_entities(store.export())
    finally:
        store.close()
    breaks = [break_impact(graph, item) for item in diff(before, after)]
    document = {
        "contract": after.id,
        "old": before.version,
        "new": after.version,
        "breaks": breaks,
        "breaks_downstream": any(b["feature_sets"] or b["models"] for b in breaks),
    }
    if as_json or fmt == "json":
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    elif fmt == "markdown":
        click.echo(_markdown(document), nl=False)
    else:
        click.echo(_text(document))
    sys.exit(1 if document["breaks_downstream"] else 0)


@contract.command("export", cls=Handled)
@click.argument("sources", nargs=-1)
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write STORE__NAME@VERSION.odcs.yaml files here (default: one YAML stream on stdout).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A featmesh.yaml: its domains apply; SOURCES default to its sources.",
)
def export_command(sources: tuple[str, ...], output_dir: Path | None, config_path: Path | None) -> None:
    """Write an ODCS v3.0.2 data contract for each feature set in SOURCES."""
    import yaml

    from featmesh.connector.config import load_config
    from featmesh.connector.contracts.export import feature_set_contract, file_name
    from featmesh.connector.errors import InputError, SourceError, UsageError
    from featmesh.connector.runreport import RunReport
    from featmesh.connector.scan.read import domain_mapping, read_sources, resolve_domains
    from featmesh.connector.sources import parse_source

    config = load_config(config_path) if config_path else None
    specs = [parse_source(arg) for arg in sources] or (list(config.sources) if config else [])
    if not specs:
        raise UsageError("no SOURCE given: name the feature stores to export, or --config FILE")
    report = RunReport(command="contract export")
    result = read_sources(specs, report)
    if result.input_errors:
        raise result.input_errors[0]
    failed = [s for s in report.sources if s.status == "failed"]
    if failed:
        raise SourceError(
            f"source {failed[0].uri} could not be read ({failed[0].error}); nothing was written"
        )
    domains = domain_mapping(result, config.domains, config.source_domains) if config else {}
    stores = resolve_domains(result.stores, domains)
    readers: dict[str, list[Any]] = {}
    for store in stores:
        for consumer in store.consumers:
            for read in consumer.reads:
                readers.setdefault(read.feature_set.qualified_name, []).append(consumer)
    documents = [
        (fs, feature_set_contract(fs, readers.get(fs.qualified_name, ())))
        for store in stores
        for fs in store.feature_sets
    ]
    if output_dir is None:
        click.echo(
            yaml.safe_dump_all([d for _, d in documents], sort_keys=False, allow_unicode=True), nl=False
        )
        return
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for fs, document in documents:
            path = output_dir / file_name(fs)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
            tmp.replace(path)
    except OSError as err:
        raise InputError(f"cannot write the contracts: {err.strerror or err}", path=str(output_dir)) from None
    click.echo(f"wrote {len(documents)} contracts to {output_dir}", err=True)

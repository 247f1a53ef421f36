"""``featmesh contract diff OLD NEW``: a data contract's breaking changes and their ML impact.

OLD and NEW are two versions of an ODCS v3 contract. Each breaking change (a removed
object or column, a changed type, a renamed table, a deprecated status, a weaker freshness
promise) is traced through the catalog: the feature sets reading that table (and, for a
column, the features computed from it), then everything downstream of them, models and
endpoints included, with their owners. Exit 1 when anything downstream breaks, so a
producer's CI can gate a release on it; 0 when nothing does; 2 on bad input.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from featmesh.connector.catalog import open_catalog
from featmesh.connector.cli import Handled
from featmesh.connector.commands.options import catalog_option, timeout_option, timeout_settings
from featmesh.connector.contracts import Break, diff, load_contract
from featmesh.connector.mapping.graph import SET, MeshGraph


@click.group()
def contract() -> None:
    """Data contracts (ODCS v3) of source data products."""


def _impact(graph: MeshGraph, item: Break) -> dict[str, Any]:
    sets = [qn for qn in graph.by_uri.get(item.table, ()) if graph.nodes[qn].kind == SET]
    starts = []
    for set_qn in sets:
        if item.column is None:
            starts.append(set_qn)
            continue
        for feature_qn in graph.features_of.get(set_qn, ()):
            if item.column in (graph.nodes[feature_qn].attributes.get("sourceColumns") or ()):
                starts.append(feature_qn)
    found: dict[str, dict[str, dict[str, Any]]] = {"feature_sets": {}, "models": {}, "serving_endpoints": {}}
    features: list[str] = []
    owners: set[str] = set()
    for start in starts:
        node = graph.nodes[start]
        closure = graph.downstream(start)
        home = graph.nodes.get(start.split("#", 1)[0])
        if home is not None:
            found["feature_sets"].setdefault(home.qualified_name, home.summary())
        if node.kind != SET:
            features.append(start)
        features.extend(closure.features)
        body = closure.to_json()
        for key in found:
            for row in body[key]:
                found[key].setdefault(row["qualifiedName"], row)
        owners.update(body["owners"])
    for rows in found.values():
        owners.update(r["owner"] for r in rows.values() if r.get("owner"))
    return {
        "table": item.table,
        "column": item.column,
        "change": item.change,
        "message": item.message,
        **{k: list(v.values()) for k, v in found.items()},
        "features": list(dict.fromkeys(features)),
        "owners": sorted(owners),
    }


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
    breaks = [_impact(graph, item) for item in diff(before, after)]
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

"""Identities of the data a Feast repo reads, so that two repos never share one by chance.

* A ``FileSource`` path written relative is a file of the repo: it is found against the
  repo (the folder of ``feature_store.yaml``; for a bare registry file, the folder holding
  it), as Feast itself resolves it, and named by the project and its path in the repo
  (``file:feast/PROJECT/data/x.parquet``), the same in every clone (:mod:`..localfiles`);
  the path as written stays in ``extra["path_as_written"]``.
* Push, request and custom (plugin) sources exist only inside their project: their
  URI is qualified by it (``push:feast/PROJECT/NAME``).
* A source defined by a query leads to the tables the query reads, parsed with sqlglot
  in the source's dialect; each table is one source, the query kept on each
  (``extra["query"]``). A query that does not parse stays one source named by its
  project and name (``redshift:query/feast/PROJECT/NAME``), with a warning.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from featmesh.connector.model import FeatureSet, FeatureStore, SourceRef
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources.localfiles import store_files

if TYPE_CHECKING:
    from sqlglot import exp

DIALECTS = {
    "bigquery": "bigquery",
    "snowflake": "snowflake",
    "redshift": "redshift",
    "trino": "trino",
    "athena": "athena",
    "spark": "spark",
}
"""Feast source kind -> sqlglot dialect of its queries."""
SCOPED = ("push", "request", "custom")


def qualify(store: FeatureStore, root: Path, report: SourceReport) -> FeatureStore:
    store = store_files(store, root, base=lambda fs: root)
    tables: dict[tuple[str, str], tuple[str, ...]] = {}
    sets = tuple(_set(fs, store.name, report, tables) for fs in store.feature_sets)
    return replace(store, feature_sets=sets)


def _set(
    fs: FeatureSet,
    project: str,
    report: SourceReport,
    tables: dict[tuple[str, str], tuple[str, ...]],
) -> FeatureSet:
    refs = [q for ref in fs.sources for q in _qualified(ref, project, report, tables)]
    unique = tuple({(r.kind, r.uri): r for r in refs}.values())
    return fs if unique == fs.sources else replace(fs, sources=unique)


def _qualified(
    ref: SourceRef,
    project: str,
    report: SourceReport,
    tables: dict[tuple[str, str], tuple[str, ...]],
) -> tuple[SourceRef, ...]:
    prefix = f"{ref.kind}:"
    if ref.kind in SCOPED and ref.uri.startswith(prefix) and "/" not in ref.uri[len(prefix) :]:
        return (replace(ref, uri=f"{prefix}feast/{project}/{ref.uri[len(prefix) :]}"),)
    query = ref.extra.get("query")
    if isinstance(query, str) and ref.uri.startswith(f"{ref.kind}:query/"):
        name = ref.uri.split(":query/", 1)[1]
        key = (ref.kind, query)
        if key not in tables:  # parsed once per query, however many views read it
            tables[key] = _tables(ref.kind, name, query, report)
        if not tables[key]:
            return (replace(ref, uri=f"{ref.kind}:query/feast/{project}/{name}"),)
        return tuple(
            replace(ref, uri=table, extra={**ref.extra, "query": query, "query_source": name})
            for table in tables[key]
        )
    return (ref,)


def _tables(kind: str, name: str, query: str, report: SourceReport) -> tuple[str, ...]:
    """The tables a query reads, or () where it does not parse or reads none (warned)."""
    import sqlglot  # only for stores with query sources: not on every start-up
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        trees = sqlglot.parse(query, read=DIALECTS.get(kind))
    except (ParseError, ValueError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        report.warn(f"source '{name}': its {kind} query does not parse ({first}); kept as one source")
        return ()
    parsed = [tree for tree in trees if isinstance(tree, exp.Expression)]
    found = tuple(sorted({_table_name(t) for tree in parsed for t in _read_tables(tree)}))
    if not found:
        report.warn(f"source '{name}': its {kind} query reads no table; kept as one source")
    report.count("query_tables", len(found))
    return found


def _read_tables(tree: exp.Expression) -> list[exp.Table]:
    """Tables the query reads: every table reference that is not a CTE of the query."""
    from sqlglot import exp

    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return [t for t in tree.find_all(exp.Table) if t.name and not (not t.db and t.name in ctes)]


def _table_name(table: exp.Table) -> str:
    return ".".join(part for part in (table.catalog, table.db, table.name) if part)

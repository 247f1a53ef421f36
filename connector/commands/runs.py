"""``featmesh runs [--catalog URI] [--limit N] [--json]``: the history of runs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from featmesh.connector.catalog import open_catalog
from featmesh.connector.cli import Handled
from featmesh.connector.commands.options import catalog_option
from featmesh.connector.config import load_config
from featmesh.connector.sources import environment


@click.command(cls=Handled)
@catalog_option()
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as a JSON list.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A featmesh.yaml: its catalog (and credentials by reference) apply.",
)
def runs(catalog_uri: str | None, limit: int, as_json: bool, config_path: Path | None) -> None:
    """List recent runs with their status, counts and scores, newest first; ``changed`` counts
    the feature sets whose definition changed in the run (a new revision)."""
    config = load_config(config_path) if config_path else None
    with environment(config.catalog_env if config else {}, what="catalog"):
        catalog = open_catalog(catalog_uri or (config.catalog if config else None), read_only=True)
        try:
            records = catalog.runs(limit)
        finally:
            catalog.close()
    rows = [_row(r) for r in records]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no runs recorded in {catalog.uri}")
        return
    click.echo(
        f"{'run':<13} {'started':<21} {'status':<8} {'sets':>5} {'score':>6} grade  {'plan':<11} changed"
    )
    for row in rows:
        score = "-" if row["score"] is None else f"{row['score']:.1f}"
        plan = row["plan"]
        changes = (
            f"+{plan.get('create', 0)} ~{plan.get('update', 0)} -{plan.get('delete', 0)}" if plan else "-"
        )
        click.echo(
            f"{row['run_id']:<13} {row['started_at'] or '-':<21} {row['status']:<8} "
            f"{row['feature_sets']:>5} {score:>6} {row['grade'] or '-':<6} {changes:<11} "
            f"{len(row['changed_revisions'])}"
        )


def _row(record: dict) -> dict:
    summary = record.get("summary") or {}
    score = summary.get("score") or {}
    plan = summary.get("plan") or {}
    return {
        "run_id": record["run_id"],
        "command": record.get("command"),
        "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"),
        "status": record.get("status"),
        "feature_sets": (summary.get("counts") or {}).get("feature_sets", 0),
        "score": score.get("mesh"),
        "grade": score.get("grade"),
        "domains": score.get("domains") or {},
        "plan": {k: plan[k] for k in ("create", "update", "delete", "unchanged") if k in plan},
        "findings": summary.get("findings") or {},
        "evaluated": _evaluated(record, summary),
        **_revisions(record),
    }


def _revisions(record: dict) -> dict:
    """``revisions`` (each set's revision id in the run) and ``changed_revisions`` (the
    sets whose definition changed in the run: ``{qn: {id, was}}``)."""
    sets = (record.get("evaluation") or {}).get("sets") or {}
    revisions, changed = {}, {}
    for qn, entry in sets.items():
        revision = entry.get("revision") if isinstance(entry, dict) else None
        if not isinstance(revision, dict) or not revision.get("id"):
            continue
        revisions[qn] = revision["id"]
        history = revision.get("history") or []
        if history and revision.get("first_run") == record.get("run_id"):
            changed[qn] = {"id": revision["id"], "was": history[0].get("id")}
    return {"revisions": revisions, "changed_revisions": changed}


def _evaluated(record: dict, summary: dict) -> dict | None:
    """Sets evaluated and skipped by a scan (from the record of runs that predate the
    summary's ``evaluated`` block); None for runs that evaluate nothing."""
    if "evaluated" in summary:
        return summary["evaluated"]
    increment = (record.get("evaluation") or {}).get("increment")
    if not increment:
        return None
    return {
        "feature_sets": increment.get("evaluated", 0),
        "skipped": len(increment.get("skipped", [])),
        "previous_run": increment.get("previous_run"),
    }

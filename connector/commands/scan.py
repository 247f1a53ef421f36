"""``featmesh scan SOURCE... [--catalog URI] [--dry-run] [--json]``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from featmesh.connector import progress
from featmesh.connector.cli import Handled
from featmesh.connector.commands.options import (
    catalog_option,
    profile_options,
    store_name_option,
    store_name_specs,
    timeout_option,
)
from featmesh.connector.config import Config, load_config
from featmesh.connector.errors import EXIT_FINDINGS, FeatmeshError, UsageError
from featmesh.connector.mapping.rules import DEFAULT_RULES
from featmesh.connector.scan.engine import engine_plan
from featmesh.connector.scan.evaluate import FAIL_ON
from featmesh.connector.scan.run import ScanOptions, ScanOutcome, removed_message, run_scan
from featmesh.connector.sources import parse_source
from featmesh.connector.textsafe import counted
from featmesh.policies import Severity

SEVERITIES = ("critical", "error", "warning", "info")


@click.command(cls=Handled)
@click.argument("sources", nargs=-1, metavar="SOURCE...")
@catalog_option()
@timeout_option
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary on stdout.")
@click.option(
    "--batch-size", type=click.IntRange(1, 1000), default=None, help="Entities per bulk write (default 100)."
)
@click.option(
    "--keep-deleted",
    is_flag=True,
    help="Classify vanished feature sets FEATMESH.RETIRED instead of deleting them.",
)
@click.option(
    "--resume", is_flag=True, help="Finish the last unfinished push to the catalog from its stored results."
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A featmesh.yaml: sources, catalog, domains, mapping rules, policies.",
)
@click.option(
    "--policy", "-p", "packs", multiple=True, metavar="PACK", help="Policy pack name or file (repeatable)."
)
@click.option("--waivers", type=click.Path(dir_okay=False, path_type=Path), help="A waivers file.")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default=None,
    help="Exit 1 when an unwaived finding is at or above this severity (default never).",
)
@profile_options
@click.option(
    "--full",
    is_flag=True,
    help="Evaluate and profile everything, even feature sets and data that did not change.",
)
@store_name_option
@click.option(
    "--retire-removed",
    is_flag=True,
    help="Retire (FEATMESH.RETIRED) the feature sets of the stores of sources taken out of the "
    "config since they were last scanned (without it, each scan names them and leaves them).",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Atlas, Purview: read the whole catalog again instead of trusting what featmesh recorded writing.",
)
def scan(
    sources: tuple[str, ...],
    packs: tuple[str, ...],
    waivers: Path | None,
    fail_on: str | None,
    profile: bool,
    sample_rows: int | None,
    full: bool,
    verify: bool,
    profile_remote: bool,
    profile_engine: str | None,
    config_path: Path | None,
    catalog_uri: str | None,
    dry_run: bool,
    as_json: bool,
    batch_size: int | None,
    keep_deleted: bool,
    resume: bool,
    store_name: str | None,
    timeout: float | None,
    retire_removed: bool = False,
) -> None:
    """Scan feature stores and publish them to a catalog.

    SOURCE is KIND:PATH-OR-URL (manifest:, feast:, azureml:, feathr:, databricks:)
    or a path whose kind is detected.
    """
    config = load_config(config_path) if config_path else None
    if resume and sources:
        raise UsageError("--resume finishes the last push from its stored results: give no SOURCE with it")
    named = store_name_specs(sources, store_name)
    specs = tuple(parse_source(s, named) for s in sources)
    config_sources = config is not None and not specs and not resume
    if config is not None and not specs and not resume:
        specs = config.sources
    if retire_removed and not config_sources:
        raise UsageError(
            "--retire-removed retires the stores of sources taken out of featmesh.yaml: "
            "give --config FILE and no SOURCE"
        )
    if not specs and not resume:
        raise UsageError("no SOURCE given: name at least one feature store to scan, or --config FILE")
    options = ScanOptions(
        sources=specs,
        catalog=catalog_uri or (config.catalog if config else None),
        dry_run=dry_run,
        rules=config.rules if config else DEFAULT_RULES,
        domains=config.domains if config else {},
        source_domains=config.source_domains if config else {},
        batch_size=batch_size or (config.batch_size if config else None),
        keep_deleted=keep_deleted or (config.keep_deleted if config else False),
        resume=resume,
        packs=packs or (config.packs if config else ()),
        waivers=waivers or (config.waivers if config else None),
        fail_on=fail_on or (config.fail_on if config and config.fail_on else "never"),
        profile=profile or (config.profile if config else False),
        sample_rows=sample_rows or (config.sample_rows if config else None),
        full=full,
        profile_remote=profile_remote or (config.profile_remote if config else False),
        catalog_settings={
            **(config.catalog_settings if config else {}),
            **({"timeout": timeout} if timeout is not None else {}),
            **({"verify": True} if verify else {}),
        },
        contracts=config.contracts if config else (),
        profile_engine=engine_plan(profile_engine, config),
        config_sources=config_sources,
        retire_removed=retire_removed,
    )
    outcome = run_scan(options)
    if not progress.quiet():
        for entry in outcome.summary.get("removed_sources") or []:
            click.echo(f"featmesh: warning: {removed_message(entry, dry_run=dry_run)}", err=True)
    if config is not None and config.report_output is not None and not dry_run:
        _write_report(options.catalog, config.report_output, config.report_format or "html")
    if as_json:
        click.echo(json.dumps(outcome.summary, indent=2, sort_keys=False))
    else:
        click.echo(render_text(outcome))
    if outcome.exit_code:
        why = exit_reason(outcome, options.fail_on, config, fail_on)
        click.echo(f"featmesh: exit {outcome.exit_code}: {why}", err=True)
    sys.exit(outcome.exit_code)


def exit_reason(outcome: ScanOutcome, fail_on: str, config: Config | None, from_option: str | None) -> str:
    """One line saying why a scan exits non-zero, citing where ``fail_on`` was set."""
    summary = outcome.summary
    if outcome.exit_code == EXIT_FINDINGS:
        threshold = Severity(fail_on).rank
        found = sum(
            n
            for name, n in (summary.get("findings") or {}).items()
            if name in SEVERITIES and Severity(name).rank >= threshold
        )
        if from_option:
            where = "--fail-on"
        elif config is not None and config.fail_on_line:
            where = f"policies.fail_on, {display_path(config.path)}:{config.fail_on_line}"
        else:
            where = "policies.fail_on"
        return f"{found} unwaived findings at or above {fail_on} (fail_on: {where})"
    sources = summary.get("sources") or []
    failed = [f"{s.get('uri')}: {s.get('error')}" for s in sources if s.get("status") == "failed"]
    problems = [p for s in sources for p in s.get("problems") or []]
    failures = summary.get("failures") or []
    parts = []
    if failed:
        parts.append(f"{counted(len(failed), 'source')} could not be read (first: {failed[0]})")
    if problems:
        parts.append(f"{counted(len(problems), 'file')} could not be used (first: {problems[0]})")
    if failures or not (failed or problems):
        parts.append(counted(len(failures), "failure") + (f" (first: {failures[0]})" if failures else ""))
    return "the run is incomplete: " + "; ".join(parts)


def display_path(path: Path | str) -> str:
    """A path as printed: normalised (``.featmesh/x``, not ``samples/../.featmesh/x``)."""
    return os.path.normpath(str(path))


def _write_report(catalog_uri: str | None, output: Path, fmt: str) -> None:
    """The config's report of the run just recorded (a report that cannot be written is
    a warning: the scan itself is done)."""
    from featmesh.connector.catalog import open_catalog
    from featmesh.connector.commands.report import render, report_records, write
    from featmesh.connector.reports.governance import build_report

    try:
        catalog = open_catalog(catalog_uri, read_only=True)
        try:
            records = report_records(catalog, None)
        finally:
            catalog.close()
        output.parent.mkdir(parents=True, exist_ok=True)
        write(output, render(build_report(records, catalog=catalog.uri), fmt))
        if not progress.quiet():
            click.echo(f"featmesh: report written to {display_path(output)}", err=True)
    except (FeatmeshError, OSError) as err:  # said even with -q: a configured output is missing
        click.echo(f"featmesh: warning: report not written: {err}", err=True)


def render_text(outcome: ScanOutcome) -> str:
    s = outcome.summary
    lines = [f"featmesh scan: run {s['run_id']} {s['status']}{' (dry run)' if s['dry_run'] else ''}"]
    for source in s["sources"]:
        detail = f"{source['feature_sets']} feature sets" if source["status"] == "ok" else source["error"]
        lines.append(f"  {source['status']:<6} {source['uri']}: {detail}")
        lines.extend(f"         not used: {problem}" for problem in source.get("problems") or [])
    score = s.get("score") or {}
    if score.get("mesh") is not None:
        f = s["findings"]
        lines.append(
            f"score: mesh {score['mesh']} ({score['grade']}); "
            + ", ".join(f"{d} {v}" for d, v in sorted((score.get("domains") or {}).items()))
            + f"; findings {f.get('critical', 0)} critical, {f.get('error', 0)} error, "
            f"{f.get('warning', 0)} warning, {f.get('info', 0)} info, {f.get('waived', 0)} waived"
        )
    c = s["counts"]
    lines.append(
        f"read: {c['stores']} stores, {c['feature_sets']} feature sets, {c['features']} features, "
        f"{c['entities']} entities, {c['lineage']} lineage links"
    )
    p = s["plan"]
    retire = f", {p['retire']} retire" if p.get("retire") else ""
    lines.append(
        f"plan: {p['create']} create, {p['update']} update, {p['delete']} delete, {p['unchanged']} unchanged"
        f"{retire}; classifications {p['classifications']['add']} add, "
        f"{p['classifications']['update']} update, {p['classifications']['remove']} remove"
    )
    if s["dry_run"]:
        # placeholders' columns last: they are many, and follow from the sets listed
        changes = sorted(p["changes"], key=lambda c: c["typeName"] == "featmesh_column")
        for change in changes[:50]:
            fields = f" ({', '.join(change['fields'])})" if change["fields"] else ""
            lines.append(f"  {change['action']:<7} {change['typeName']} {change['qualifiedName']}{fields}")
        if len(p["changes"]) > 50:
            lines.append(f"  ... and {len(p['changes']) - 50} more")
    elif s["applied"] is not None:
        a = s["applied"]
        lines.append(
            f"applied to {s['catalog']}: {a['created']} created, {a['updated']} updated, "
            f"{a['deleted']} deleted" + (f", {a['retired']} retired" if a.get("retired") else "")
        )
    for warning in s["warnings"]:
        lines.append(f"warning: {warning}")
    for failure in s["failures"]:
        lines.append(f"failed: {failure}")
    return "\n".join(lines)

"""``featmesh check``: the pre-publish check a domain team runs in CI.

Reads the sources, evaluates the policy packs and reports; writes nothing to any
catalog. With ``--catalog`` it reads the feature sets already published, so the
mesh-wide rules see the other domains.

Exit codes, first that applies:

* 2: bad input (a pack, a waivers file, an argument; or every source failed with an
  input error): a one-line message naming the file and place;
* 3: the run finished but is incomplete: a source or the catalog could not be read,
  or a check raised. The report is still written; findings are in it, and they are
  not allowed to hide the incompleteness behind exit 1;
* 1: an unwaived failure at or above ``--fail-on``;
* 0: otherwise.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from featmesh.connector.cli import Handled
from featmesh.connector.commands.engine import engine_choice
from featmesh.connector.commands.options import catalog_option, profile_options
from featmesh.connector.config import load_config
from featmesh.connector.errors import EXIT_PARTIAL, CatalogError, FeatmeshError, InputError, UsageError
from featmesh.connector.model import FeatureSet
from featmesh.connector.reports.check_json import check_document, render_json
from featmesh.connector.reports.check_text import render_text
from featmesh.connector.reports.junit import render_junit
from featmesh.connector.reports.sarif import render_sarif
from featmesh.connector.runreport import RunReport
from featmesh.connector.scan.evaluate import FAIL_ON, findings_exit_code, with_parent_hashes
from featmesh.connector.scan.increment import last_scan
from featmesh.connector.scan.profile import profile_sets
from featmesh.connector.scan.read import (
    KnownSets,
    all_failed,
    check_references,
    domain_mapping,
    read_counts,
    read_sources,
    resolve_domains,
)
from featmesh.connector.sources import parse_source
from featmesh.policies import Evaluation, evaluate, load_policy, load_waivers, summarize

log = logging.getLogger(__name__)


def exit_code(evaluation: Evaluation, fail_on: str, partial: bool) -> int:
    return EXIT_PARTIAL if partial else findings_exit_code(evaluation, fail_on)


def _open_catalog(uri: str, report: RunReport) -> Any:
    """The catalog, opened read-only; a failure to reach it is recorded, not fatal."""
    try:
        from featmesh.connector.catalog import open_catalog
    except ImportError:
        raise UsageError("--catalog: this featmesh has no catalog support installed") from None
    try:
        return open_catalog(uri, read_only=True)
    except FeatmeshError as err:
        if err.exit_code != EXIT_PARTIAL:
            raise
        report.fail(f"catalog {uri}: {err}")
        return None


def _published(catalog: Any, uri: str, report: RunReport) -> list[FeatureSet]:
    try:
        return list(catalog.published_feature_sets())
    except FeatmeshError as err:
        if err.exit_code != EXIT_PARTIAL:
            raise
        report.fail(f"catalog {uri}: {err}")
        return []


@click.command(cls=Handled)
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--policy",
    "-p",
    "packs",
    multiple=True,
    metavar="PACK",
    help="A built-in pack name or a pack file (repeatable; default mesh-baseline).",
)
@click.option("--waivers", type=click.Path(dir_okay=False), help="A waivers file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "junit"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="Write the report here (default stdout).",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="error",
    show_default=True,
    help="Exit 1 when an unwaived failure is at or above this severity.",
)
@catalog_option("Read the published mesh from this catalog (read-only).", name="catalog")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON summary to stdout.")
@profile_options
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A featmesh.yaml: its domains, mapping and policy settings apply; SOURCES default to its sources.",
)
def check(
    sources: tuple[str, ...],
    packs: tuple[str, ...],
    waivers: str | None,
    fmt: str,
    output: str | None,
    fail_on: str,
    catalog: str | None,
    as_json: bool,
    profile: bool,
    sample_rows: int | None,
    profile_remote: bool,
    profile_engine: str | None,
    config_path: Path | None,
) -> None:
    """Check feature sets in SOURCES against policy packs; writes nothing to any catalog.

    SOURCES are KIND:PATH-OR-URL or paths whose kind is detected.
    """
    if as_json and fmt in ("sarif", "junit") and output is None:
        raise UsageError("--json prints JSON to stdout: give --output for the --format report")
    config = load_config(config_path) if config_path else None
    if config is not None:
        packs = packs or config.packs
        waivers = waivers or (str(config.waivers) if config.waivers else None)
        profile = profile or config.profile
        sample_rows = sample_rows or config.sample_rows
        profile_remote = profile_remote or config.profile_remote
    policy = load_policy(list(packs) or None)
    waiver_set = load_waivers(waivers, policy) if waivers else None
    specs = [parse_source(arg) for arg in sources] or (list(config.sources) if config else [])
    if not specs:
        raise UsageError("no SOURCE given: name the feature stores to check, or --config FILE")

    report = RunReport(command="check")
    result = read_sources(specs, report)
    failed = [s for s in report.sources if s.status == "failed"]
    if failed and len(failed) == len(report.sources) and len(result.input_errors) == len(failed):
        raise all_failed(result, report)

    published: list[FeatureSet] = []
    elsewhere: KnownSets | None = None
    opened = _open_catalog(catalog, report) if catalog else None
    earlier: Mapping[tuple[str, str], str] = {}
    last: Mapping[str, Any] | None = None
    try:
        if opened is not None:
            published = _published(opened, str(catalog), report)
            if len(report.failures):  # the catalog cannot be read: it is not asked again
                opened.close()
                opened = None
            else:
                elsewhere = lambda ref: opened.feature_set_versions(ref.store_kind, ref.store, ref.name)  # noqa: E731
        domains = domain_mapping(result, config.domains, config.source_domains) if config else {}
        result.replace_stores(resolve_domains(result.stores, domains))
        try:
            check_references(result, elsewhere)
            if opened is not None and profile:  # the published profiles, to measure drift against
                earlier = opened.latest_profiles(
                    fs.qualified_name for s in result.stores for fs in s.feature_sets
                )
            if opened is not None:  # the last scan's record: when derived sets were built
                last = last_scan(opened.runs(10))
        except CatalogError as err:
            report.fail(f"catalog {catalog}: {err}")
            check_references(result)
        stores = result.stores
    finally:
        if opened is not None:
            opened.close()
    if not stores and result.input_errors:
        raise all_failed(result, report)
    failed = [s for s in report.sources if s.status == "failed"]
    sets = [fs for store in stores for fs in store.feature_sets]
    scanned = {(s.kind, s.name) for s in stores}
    published = [fs for fs in published if (fs.store_kind, fs.store) not in scanned]
    profiles = (
        profile_sets(
            sets,
            report,
            sample_rows=sample_rows,
            previous=lambda _qns: earlier,
            remote=profile_remote,
            engine=engine_choice(profile_engine, config),
        )
        if profile
        else None
    )
    sets = with_parent_hashes(sets, published, last)
    evaluation = evaluate(
        policy,
        sets,
        published=published,
        waivers=waiver_set,
        profiles=profiles.by_set if profiles else None,
        drift=profiles.drift if profiles else None,
    )
    summary = summarize(evaluation)
    counts = read_counts(stores)
    for error in evaluation.errors():
        report.fail(f"{error.rule} on {error.target}: {error.message}")
    report.finish()
    partial = report.status != "ok"

    document = check_document(evaluation, summary, report, counts) if (as_json or fmt == "json") else None
    rendered = _render(fmt, evaluation, summary, report, counts, document)
    if output:
        try:
            Path(output).write_text(rendered, encoding="utf-8")
        except OSError as err:
            raise InputError(f"cannot write the {fmt} report: {err.strerror}", path=output) from None
        log.info("wrote %s report to %s", fmt, output)
    if as_json:
        assert document is not None
        click.echo(render_json(document), nl=False)
    elif not output:
        click.echo(rendered, nl=False)
    for source in failed:
        click.echo(f"featmesh: source {source.uri} failed: {source.error}", err=True)
    for message in report.failures.to_json():
        click.echo(f"featmesh: {message}", err=True)
    sys.exit(exit_code(evaluation, fail_on, partial))


def _render(
    fmt: str,
    evaluation: Evaluation,
    summary: Any,
    report: RunReport,
    counts: dict[str, int],
    document: dict[str, Any] | None,
) -> str:
    if fmt == "json":
        assert document is not None
        return render_json(document)
    if fmt == "sarif":
        return render_sarif(evaluation)
    if fmt == "junit":
        return render_junit(evaluation, summary)
    return render_text(evaluation, summary, report, counts)

"""``featmesh check``: the pre-publish check a domain team runs in CI.

Reads the sources, evaluates the policy packs and reports; writes nothing to any
catalog. With ``--catalog`` it reads the feature sets already published, so the
mesh-wide rules see the other domains.

Exit codes, first that applies:

* 2: bad input (a pack, a waivers file, an argument; or every source failed with an
  input error): a one-line message naming the file and place. When the sources are
  what failed, the report is still written, with each failure in it;
* 3: the run finished but is incomplete: a source, a file of a source (a manifest that
  does not parse: the folder's other files are still checked) or the catalog could not
  be read, or a check raised. The report is still written; findings are in it, and
  they are not allowed to hide the incompleteness behind exit 1;

Every file that could not be used is a result in every format (SARIF: a
``featmesh.input-error`` result and a tool execution notification at its line; JUnit: a
failed case in the suite ``inputs``; JSON: an entry of ``problems``). Every non-zero
exit ends with one line on stderr saying why.
* 1: an unwaived failure at or above ``--fail-on``;
* 0: otherwise.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import click

from featmesh.connector import progress, redact
from featmesh.connector.catalog.plan import RETIRED
from featmesh.connector.cli import Handled
from featmesh.connector.commands.options import (
    catalog_option,
    profile_options,
    store_name_option,
    store_name_specs,
    timeout_option,
)
from featmesh.connector.config import load_config
from featmesh.connector.contracts import load_contracts
from featmesh.connector.errors import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    EXIT_PARTIAL,
    CatalogError,
    FeatmeshError,
    InputError,
    UsageError,
)
from featmesh.connector.mapping.entities import FEATURE_SET, MODEL
from featmesh.connector.mapping.reverse import consumers_from_entities
from featmesh.connector.model import Consumer, FeatureSet, consumer_qn
from featmesh.connector.reports.check_json import check_document, render_json
from featmesh.connector.reports.check_text import render_text
from featmesh.connector.reports.junit import render_junit
from featmesh.connector.reports.sarif import render_sarif
from featmesh.connector.runreport import InputProblem, RunReport
from featmesh.connector.scan.engine import engine_plan
from featmesh.connector.scan.evaluate import FAIL_ON, findings_exit_code, store_consumers, with_parent_hashes
from featmesh.connector.scan.profile import profile_sets
from featmesh.connector.scan.read import (
    KnownSets,
    check_references,
    domain_mapping,
    read_counts,
    read_sources,
    resolve_domains,
    store_sources,
)
from featmesh.connector.scan.select import narrowed, select
from featmesh.connector.textsafe import counted
from featmesh.policies import (
    COMPLIANT,
    NON_COMPLIANT,
    Evaluation,
    evaluate,
    load_policy,
    load_waivers,
    summarize,
)
from featmesh.policies.consumers import ConsumerAt, Standing, evaluate_consumers, unused_waiver_targets
from featmesh.policies.types import Severity
from featmesh.policies.waivers import UNUSED

log = logging.getLogger(__name__)


LAST_SCAN_PARTS = ("evaluation.sets",)
"""What check reads of the last scan's record besides its header (``with_parent_hashes``):
not its findings nor its plan."""


def exit_code(evaluation: Evaluation, fail_on: str, partial: bool) -> int:
    return EXIT_PARTIAL if partial else findings_exit_code(evaluation, fail_on)


def _open_catalog(uri: str, report: RunReport, timeout: float | None = None) -> Any:
    """The catalog, opened read-only; a failure to reach it is recorded, not fatal."""
    try:
        from featmesh.connector.catalog import open_catalog
    except ImportError:
        raise UsageError("--catalog: this featmesh has no catalog support installed") from None
    try:
        return open_catalog(uri, read_only=True, **({"timeout": timeout} if timeout is not None else {}))
    except FeatmeshError as err:
        if err.exit_code != EXIT_PARTIAL:
            raise
        report.fail(f"catalog {uri}: {err}")
        return None


def _consumers(
    catalog: Any, uri: str, report: RunReport
) -> tuple[list[tuple[tuple[str, str], Consumer]], dict[str, Standing]]:
    """The models the catalog holds, with the (store kind, store) that recorded each, and
    each published set's standing from its featmesh classifications."""
    try:
        models = [e for e in catalog.published_models() if e.get("typeName") == MODEL]
        out = []
        for entity, consumer in zip(models, consumers_from_entities(models), strict=True):
            parts = str(entity["attributes"]["qualifiedName"]).removeprefix("featmesh://").split("/")
            out.append(((unquote(parts[0]), unquote(parts[1]) if len(parts) > 1 else ""), consumer))
        # the standing of exactly the sets those models read, not of the whole catalog
        read = sorted({r.feature_set.qualified_name for _, c in out for r in c.reads})
        entities = catalog.current([(FEATURE_SET, qn) for qn in read], []).values()
    except CatalogError as err:
        report.fail(f"catalog {uri}: cannot read the published models: {err}")
        return [], {}
    standing = {}
    for entity in entities:
        found = _standing(entity)
        if found is not None:
            standing[found[0]] = found[1]
    return out, standing


def _standing(entity: Mapping[str, Any]) -> tuple[str, Standing] | None:
    """A published set's standing: retired, or compliant or not as the last scan classified
    it; None for any other entity, or a set never classified."""
    if entity.get("typeName") != FEATURE_SET:
        return None
    attrs = entity.get("attributes") or {}
    found = {
        str(c.get("typeName")): c.get("attributes") or {}
        for c in entity.get("classifications") or ()
        if isinstance(c, Mapping)
    }
    qn = str(attrs.get("qualifiedName") or "")
    parts = qn.removeprefix("featmesh://").split("/")
    store = unquote(parts[1]) if len(parts) > 2 else ""
    shown = f"{store}/{attrs.get('name')}@{attrs.get('version') or 'latest'}"
    if RETIRED in found:
        return qn, Standing(name=shown, retired="classified retired in the catalog")
    for name in (NON_COMPLIANT, COMPLIANT):
        if name in found:
            score = found[name].get("score")
            return qn, Standing(
                name=shown,
                compliant=name == COMPLIANT,
                grade=found[name].get("grade"),
                score=float(score) if isinstance(score, (int, float)) else None,
            )
    return None


def _judge_consumers(
    evaluation: Evaluation,
    summary: Any,
    named: list[ConsumerAt],
    waivers: Any,
    published: Mapping[str, Standing],
) -> None:
    """The consumer rules on every consumer, on the compliance of the sets checked now and,
    for the other sets, what the catalog classified them (``published``)."""
    standing = dict(published)
    standing.update(
        (
            fs.qualified_name,
            Standing(
                name=f"{fs.store}/{fs.name}@{fs.version or 'latest'}",
                compliant=summary.sets[fs.qualified_name].compliant,
                grade=summary.sets[fs.qualified_name].grade,
                score=summary.sets[fs.qualified_name].score,
            ),
        )
        for fs in evaluation.feature_sets
        if fs.qualified_name in summary.sets
    )
    judged = evaluate_consumers(
        evaluation.policy, named, standing, waivers=waivers, today=evaluation.evaluated_at.date()
    )
    drop = unused_waiver_targets(waivers, judged.used)
    evaluation.extra[:] = [
        r for r in evaluation.extra if not (r.rule == UNUSED and r.target in drop)
    ] + judged.results


def _published(catalog: Any, uri: str, report: RunReport) -> list[FeatureSet]:
    try:
        return list(catalog.published_feature_sets())
    except FeatmeshError as err:
        if err.exit_code != EXIT_PARTIAL:
            raise
        report.fail(f"catalog {uri}: {err}")
        return []


@click.command(cls=Handled)
@click.argument("sources", nargs=-1)
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
    default=None,
    help="Exit 1 when an unwaived failure is at or above this severity [default: error].",
)
@catalog_option("Read the published mesh from this catalog (read-only).", name="catalog")
@timeout_option
@click.option(
    "--contract",
    "contract_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A data contract (ODCS v3) file or folder the sources are checked against; repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON summary to stdout.")
@profile_options
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A featmesh.yaml: its domains, mapping and policy settings apply; SOURCES default to its sources.",
)
@store_name_option
def check(
    sources: tuple[str, ...],
    packs: tuple[str, ...],
    waivers: str | None,
    fmt: str,
    output: str | None,
    fail_on: str | None,
    catalog: str | None,
    as_json: bool,
    profile: bool,
    sample_rows: int | None,
    profile_remote: bool,
    profile_engine: str | None,
    config_path: Path | None,
    contract_paths: tuple[Path, ...] = (),
    timeout: float | None = None,
    store_name: str | None = None,
) -> None:
    """Check feature sets in SOURCES against policy packs; writes nothing to any catalog.

    SOURCES are KIND:PATH-OR-URL or paths whose kind is detected. A file inside a source
    of --config selects that source (in a manifest folder, only the stores the file
    declares), as pre-commit passes a commit's files; a file of no store is left out with
    a note.
    """
    if as_json and fmt in ("sarif", "junit") and output is None:
        raise UsageError("--json prints JSON to stdout: give --output for the --format report")
    config = load_config(config_path) if config_path else None
    # the config's policies.fail_on is the scheduled scan's; check gates on --fail-on
    fail_on_from = "--fail-on" if fail_on else "the default --fail-on"
    fail_on = fail_on or "error"
    if catalog and (catalog == "local" or catalog.startswith("local:")):
        _local_catalog_exists(catalog)
    if config is not None:
        packs = packs or config.packs
        waivers = waivers or (str(config.waivers) if config.waivers else None)
        profile = profile or config.profile
        sample_rows = sample_rows or config.sample_rows
        profile_remote = profile_remote or config.profile_remote
        contract_paths = contract_paths or config.contracts
        if timeout is None and config.catalog_settings.get("timeout") is not None:
            timeout = float(config.catalog_settings["timeout"])
    policy = load_policy(list(packs) or None)
    contracts = load_contracts(contract_paths)
    waiver_set = load_waivers(waivers, policy) if waivers else None
    renamed = store_name_specs(sources, store_name)
    selection = None
    if sources:
        always = [p for p in (config.path if config else None, waivers, *packs) if p and Path(p).is_file()]
        selection = select(sources, config.sources if config else (), [Path(p) for p in always])
        specs = selection.specs
        if renamed and len(specs) > 1:  # e.g. featmesh.yaml changed: every configured source
            raise UsageError(
                f"--store-name names the store of one SOURCE: {sources[0]} selects {len(specs)} sources "
                f"({', '.join(s.uri for s in specs)})"
            )
        if renamed:  # exactly one source: its store takes the name given
            specs = [replace(spec, options={**spec.options, **renamed}) for spec in specs]
        for note in selection.notes:
            click.echo(f"featmesh: note: {note}", err=True)
    else:
        specs = list(config.sources) if config else []
        if not specs:
            raise UsageError("no SOURCE given: name the feature stores to check, or --config FILE")

    report = RunReport(command="check")
    result = read_sources(specs, report)
    failed = [s for s in report.sources if s.status == "failed"]
    nothing_read = (
        bool(failed) and len(failed) == len(report.sources) and len(result.input_errors) == len(failed)
    )

    published: list[FeatureSet] = []
    published_consumers: list[tuple[tuple[str, str], Consumer]] = []
    published_standing: dict[str, Standing] = {}
    elsewhere: KnownSets | None = None
    opened = _open_catalog(catalog, report, timeout) if catalog and not nothing_read else None
    earlier: Mapping[tuple[str, str], str] = {}
    last: Mapping[str, Any] | None = None
    try:
        if opened is not None:
            progress.step(f"reading the published mesh from {catalog}")
            published = _published(opened, str(catalog), report)
            progress.done()
            if not len(report.failures):
                published_consumers, published_standing = _consumers(opened, str(catalog), report)
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
            if opened is not None:  # the last scan's sets: when derived sets were built
                last = opened.last_scan(parts=LAST_SCAN_PARTS)
        except CatalogError as err:
            report.fail(f"catalog {catalog}: {err}")
            check_references(result)
        context = _narrow(result, specs, selection.changed) if selection is not None else []
        stores = result.stores
    finally:
        if opened is not None:
            opened.close()
    failed = [s for s in report.sources if s.status == "failed"]
    # every source failed on its input: still a complete report, then exit 2
    input_failed = not stores and bool(result.input_errors) and len(result.input_errors) >= len(failed)
    sets = [fs for store in stores for fs in store.feature_sets]
    scanned = {(s.kind, s.name) for s in stores}
    previous = [fs for fs in published if (fs.store_kind, fs.store) in scanned]
    published = [fs for fs in published if (fs.store_kind, fs.store) not in scanned]
    if context:  # a selected folder's other stores, as written now, over their published copies
        held = {(fs.store_kind, fs.store) for fs in context}
        published = [*context, *(fs for fs in published if (fs.store_kind, fs.store) not in held)]
    named = store_consumers(stores)
    local_consumers = {(s.kind, s.name) for s in stores if s.consumers}
    named += [
        ConsumerAt(consumer_qn(*key, c.kind, c.name, c.version), *key, c)
        for key, c in published_consumers
        if key not in local_consumers
    ]
    consumers = [placed.consumer for placed in named]
    profiles = (
        profile_sets(
            sets,
            report,
            sample_rows=sample_rows,
            previous=lambda _qns: earlier,
            remote=profile_remote,
            engine=engine_plan(profile_engine, config),
            source_of=store_sources(result),
        )
        if profile
        else None
    )
    sets = with_parent_hashes(sets, published, last)
    label = f"evaluating {len(sets)} feature sets against {', '.join(policy.packs)}"
    with progress.meter(label, None) as bar:
        evaluation = evaluate(
            policy,
            sets,
            published=published,
            previous=previous,
            consumers=consumers,
            contracts=contracts,
            waivers=waiver_set,
            profiles=profiles.by_set if profiles else None,
            drift=profiles.drift if profiles else None,
            progress=bar,
        )
    summary = summarize(evaluation)
    _judge_consumers(evaluation, summary, named, waiver_set, published_standing)
    counts = read_counts(stores)
    for error in evaluation.errors():
        report.fail(f"{error.rule} on {error.target}: {error.message}")
    report.finish()
    partial = report.status != "ok"

    problems, failures = _problems(report, result.input_errors)
    document = (
        check_document(
            evaluation,
            summary,
            report,
            counts,
            problems=problems,
            failures=failures,
            revisions={fs.qualified_name: fs.revision for fs in sets},
        )
        if (as_json or fmt == "json")
        else None
    )
    rendered = _render(fmt, evaluation, summary, report, counts, document, problems, failures)
    if output:
        try:
            redact.write_text(Path(output), rendered)
        except OSError as err:
            raise InputError(f"cannot write the {fmt} report: {err.strerror}", path=output) from None
        log.info("wrote %s report to %s", fmt, output)
    if as_json:
        assert document is not None
        click.echo(render_json(document), nl=False)
    elif not output:
        click.echo(rendered, nl=False)
    # each problem once on stderr: not when the text report on stdout lists them, nor with -q
    listed = (fmt != "text" or output or as_json) and not progress.quiet()
    if listed:
        for problem in problems:
            click.echo(f"featmesh: {problem}", err=True)
        for message in failures:
            click.echo(f"featmesh: {message}", err=True)
    code = EXIT_INPUT if input_failed else exit_code(evaluation, fail_on, partial)
    if code:
        why = _why(code, evaluation, fail_on, fail_on_from, problems, failures, listed=bool(listed))
        click.echo(f"featmesh: exit {code}: {why}", err=True)
    sys.exit(code)


def _narrow(result: Any, specs: list[Any], changed: Mapping[str, set[Path]]) -> list[FeatureSet]:
    """Keep, of each source narrowed to its changed files, the stores those files declare;
    the sets of its other stores are returned, for the mesh-wide rules only."""
    context: list[FeatureSet] = []
    for (source, group), spec in zip(result.per_source, specs, strict=True):
        files = changed.get(spec.uri)
        if files is None or not group:
            continue
        keep, rest = narrowed(group, files)
        group[:] = keep
        source.feature_sets = sum(len(s.feature_sets) for s in keep)
        context += [fs for store in rest for fs in store.feature_sets]
        if rest:
            log.info("%s: %d stores not changed, read for the mesh-wide rules only", spec.uri, len(rest))
    return context


def _problems(report: RunReport, input_errors: list[InputError]) -> tuple[list[InputProblem], list[str]]:
    """The files that could not be used (each source's broken files, and the input error
    of each source that failed on its input), and the other failures of the run (a source
    or catalog that could not be read, a check that raised)."""
    by_message = {str(err): err for err in input_errors}
    problems: list[InputProblem] = []
    failures: list[str] = []
    for source in report.sources:
        problems.extend(source.problems)
        if source.status != "failed":
            continue
        err = by_message.get(source.error or "")
        if err is not None:
            problems.append(InputProblem.of(err, source.uri))
        else:
            failures.append(f"source {source.uri} failed: {source.error}")
    failures.extend(report.failures.to_json())
    return problems, failures


def _local_catalog_exists(uri: str) -> None:
    """check reads a published mesh: a local catalog that does not exist is a mistyped
    path, not an empty mesh (scan's read-only dry run may start from nothing, check not)."""
    from featmesh.connector.catalog.local import parse_local_uri

    path = parse_local_uri(uri)
    if not path.exists():
        raise UsageError(
            f"--catalog {uri}: no catalog file at {os.path.normpath(path)} (check reads the mesh "
            "a scan published: fix the path, or leave --catalog out)"
        )


def _why(
    code: int,
    evaluation: Evaluation,
    fail_on: str,
    fail_on_from: str,
    problems: list[InputProblem],
    failures: list[str],
    *,
    listed: bool = False,
) -> str:
    """Why the run exits ``code``; the first problem is named unless the lines just above
    (``listed``) gave every one."""
    if code == EXIT_FINDINGS:
        found = [r for r in evaluation.findings() if r.severity.rank >= Severity(fail_on).rank]
        return f"{len(found)} unwaived findings at or above {fail_on} (fail_on: {fail_on_from})"
    if code == EXIT_INPUT:
        first = " (above)" if listed else f" (first: {problems[0]})" if problems else ""
        return f"no source could be read: {counted(len(problems), 'input error')}{first}"
    parts = []
    if problems:
        first = "" if listed else f" (first: {problems[0]})"
        parts.append(f"{counted(len(problems), 'file')} could not be used{first}")
    if failures:
        parts.append(counted(len(failures), "failure") + ("" if listed else f" ({failures[0]})"))
    return "the run is incomplete: " + "; ".join(parts or ["a check raised"])


def _render(
    fmt: str,
    evaluation: Evaluation,
    summary: Any,
    report: RunReport,
    counts: dict[str, int],
    document: dict[str, Any] | None,
    problems: list[InputProblem],
    failures: list[str],
) -> str:
    if fmt == "json":
        assert document is not None
        return render_json(document)
    if fmt == "sarif":
        return render_sarif(evaluation, problems=problems, failures=failures)
    if fmt == "junit":
        return render_junit(evaluation, summary, problems=problems, failures=failures)
    return render_text(evaluation, summary, report, counts, problems=problems, failures=failures)

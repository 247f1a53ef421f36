"""``featmesh report [--catalog URI] [--run ID] [--format html|markdown|json] [--output FILE]``:
the governance report of a scan run, for governance officers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from featmesh.connector import redact
from featmesh.connector.catalog import open_catalog
from featmesh.connector.cli import Handled
from featmesh.connector.commands.options import catalog_option
from featmesh.connector.config import load_config
from featmesh.connector.errors import InputError
from featmesh.connector.reports.governance import build_report, choose
from featmesh.connector.reports.jsontext import dumps_indented
from featmesh.connector.sources import environment

RUN_WINDOW = 500
"""How many recent runs are read: ``--run`` can name any of them."""

DEFAULT_HTML = "featmesh-report.html"

REPORT_PARTS = ("evaluation.findings", "evaluation.sets")
"""The large pieces of the run record the report shows (not the scan's plan)."""


def report_records(catalog: Any, run_id: str | None) -> list[dict[str, Any]]:
    """The recent runs as briefs (header and scores), the one reported on whole: a
    report reads one full run record, not the whole window."""
    briefs = catalog.briefs(RUN_WINDOW)
    if not briefs:
        return []
    chosen, _ = choose(briefs, run_id, catalog.uri)
    full = catalog.run(str(chosen.get("run_id")), REPORT_PARTS)
    return [full if r is chosen and full is not None else r for r in briefs]


@click.command(cls=Handled)
@catalog_option()
@click.option(
    "--run", "run_id", metavar="ID", help="The run to report on (default: the newest evaluated scan)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "markdown", "json"]),
    default=None,
    help="html: one self-contained file; markdown: a summary; json: the data, for dashboards "
    "[default: the config's report.format, else html].",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Write to FILE (html defaults to ./{DEFAULT_HTML}; markdown and json to stdout).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A featmesh.yaml: its catalog (credentials by reference) and report.format/output apply.",
)
def report(
    catalog_uri: str | None,
    run_id: str | None,
    fmt: str | None,
    output: Path | None,
    config_path: Path | None,
) -> None:
    """Compliance of the mesh, its domains and feature sets, with the score history."""
    config = load_config(config_path) if config_path else None
    if config is not None:
        fmt = fmt or config.report_format
        output = output or (
            config.report_output if not fmt or fmt == (config.report_format or "html") else None
        )
    fmt = fmt or "html"
    with environment(config.catalog_env if config else {}, what="catalog"):
        catalog = open_catalog(catalog_uri or (config.catalog if config else None), read_only=True)
        try:
            records = report_records(catalog, run_id)
        finally:
            catalog.close()
    text = render(build_report(records, run_id=run_id, catalog=catalog.uri), fmt)
    output = output or (Path(DEFAULT_HTML) if fmt == "html" else None)
    if output is None:
        click.echo(text, nl=False)
        return
    write(output, text)
    click.echo(str(output))


def render(data: dict, fmt: str) -> str:
    if fmt == "html":
        from featmesh.connector.reports.html import render_html

        return render_html(data)
    if fmt == "markdown":
        from featmesh.connector.reports.markdown import render_markdown

        return render_markdown(data)
    return dumps_indented(data) + "\n"


def write(output: Path, text: str) -> None:
    try:
        redact.write_text(output, text)
    except OSError as err:
        raise InputError(f"cannot write the report: {err.strerror}", path=str(output)) from err

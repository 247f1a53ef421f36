"""``featmesh policies``: the pack schema, validation, listing and explanation of rules."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from featmesh.connector.cli import Handled
from featmesh.connector.documents import load_yaml
from featmesh.connector.errors import InputError, UsageError
from featmesh.connector.textsafe import counted
from featmesh.policies.engine import waiver_findings
from featmesh.policies.packs import DEFAULT_PACK, describe, load_policy, pack_schema
from featmesh.policies.registry import all_checks
from featmesh.policies.waivers import load_waivers, waiver_schema

PACK_OPTION = click.option(
    "--pack",
    "-p",
    "packs",
    multiple=True,
    metavar="PACK",
    help=f"A built-in pack name or a pack file (repeatable; default {DEFAULT_PACK}).",
)


@click.group()
def policies() -> None:
    """Policy packs: schema, validate, list, explain."""


@policies.command(cls=Handled)
@click.option("--waivers", "waivers", is_flag=True, help="Print the waivers file schema instead.")
def schema(waivers: bool) -> None:
    """Print the JSON Schema of policy packs (point `$schema` at it for editor help)."""
    click.echo(json.dumps(waiver_schema() if waivers else pack_schema(), indent=2))


@policies.command(cls=Handled)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@PACK_OPTION
def validate(files: tuple[str, ...], packs: tuple[str, ...]) -> None:
    """Check policy pack and waivers FILES, every error in one pass; exit 2 if any.

    Waivers files (kind: Waivers) are checked against the packs named here, as
    ``check --policy`` would use them: the pack FILES given and each --pack (default
    mesh-baseline). What ``check`` will report about a waiver (malformed, expired, too
    long) is printed at its line, with the rule id ``check`` gives it.
    """
    errors: list[InputError] = []
    pack_files: list[str] = []
    waiver_files: list[str] = []
    for path in files:
        try:
            doc = load_yaml(Path(path))
        except InputError as err:
            errors.append(err)
            continue
        if isinstance(doc.data, dict) and doc.data.get("kind") == "Waivers":
            waiver_files.append(path)
            continue
        try:
            policy = load_policy([path])
        except InputError as err:
            errors.append(err)
            continue
        pack_files.append(path)
        click.echo(
            f"{path}: ok, pack {policy.name} {policy.version}: {len(policy.rules)} rules"
            + (f", {len(policy.disabled)} disabled" if policy.disabled else "")
            + f" (reads {', '.join(policy.packs)})"
        )
    if waiver_files:
        try:
            context = load_policy([*packs, *pack_files] or None)
        except InputError as err:
            errors.append(err)
            waiver_files = []
        for path in waiver_files:
            found: list[InputError] = []
            try:
                waivers = load_waivers(path, context, collect=found)
            except InputError as err:
                errors.append(err)
                continue
            errors.extend(found)
            findings = waiver_findings(context, waivers, dt.datetime.now(dt.timezone.utc).date())
            for r in findings:
                click.echo(f"{r.origin}: {r.rule} [{r.severity.value}] (check reports it): {r.message}")
            malformed = len(waivers.malformed)
            click.echo(
                f"{path}: {'ok' if not found else f'{len(found)} errors'}, "
                f"{len(waivers.waivers)} waivers for {context.name} ({', '.join(context.packs)})"
                + (f", {malformed} malformed (they waive nothing)" if malformed else "")
            )
    if errors:
        for error in errors:
            click.echo(f"featmesh: error: {error}", err=True)
        where = len({e.path for e in errors})
        click.echo(f"featmesh: exit 2: {counted(len(errors), 'error')} in {counted(where, 'file')}", err=True)
        raise SystemExit(2)


@policies.command(name="list", cls=Handled)
@PACK_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the rules as a JSON list.")
def list_rules(packs: tuple[str, ...], as_json: bool) -> None:
    """List the rules of the packs: id, check, severity, dimension, description."""
    policy = load_policy(list(packs) or None)
    rows = describe(policy.rules)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max((len(r["id"]) for r in rows), default=10)
    click.echo(f"{policy.name} {policy.version}: {len(rows)} rules")
    for row in rows:
        click.echo(
            f"{row['id']:<{width}}  {row['severity']:<8}  {row['dimension']:<15}  {row['description']}"
        )


@policies.command(cls=Handled)
@click.argument("rule_id")
@PACK_OPTION
def explain(rule_id: str, packs: tuple[str, ...]) -> None:
    """Explain RULE_ID (or a check's id): what it catches, examples, parameters, scope."""
    from featmesh.policies.explain import explain as explanation

    policy = load_policy(list(packs) or None)
    found = explanation(policy, rule_id)
    if found is None:
        import difflib

        ids = [r.id for r in policy.rules]
        close = difflib.get_close_matches(rule_id, [*ids, *all_checks()], n=1, cutoff=0.6)
        hint = f": did you mean '{close[0]}'?" if close else f" (rules: {', '.join(ids)})"
        raise UsageError(f"no rule or check '{rule_id}' in {policy.name}{hint}")
    click.echo(found.text)


@policies.command(cls=Handled)
@click.option("--json", "as_json", is_flag=True)
def checks(as_json: bool) -> None:
    """List the registered checks, built-in and from plugins (entry points featmesh.checks)."""
    rows = [
        {
            "id": c.id,
            "target": c.target.value,
            "dimension": c.dimension.value,
            "mesh": c.mesh,
            "provider": c.provider,
            "description": c.description,
        }
        for c in all_checks().values()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['id']:<26} {row['target']:<12} {row['provider']:<12} {row['description']}")

"""``featmesh typedefs export|validate``: featmesh's Atlas types as one document, and a checker.

``export`` prints featmesh's own types (not Atlas's base model) as one Atlas typedefs
document. ``validate [FILE]`` checks a typedef document (JSON or YAML; by default the
shipped one) against Atlas's rules: exit 0 with one OK line, or exit 2 with every
problem on its own line, ``FILE: entityDefs[3] 'name': message``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from featmesh.connector.cli import Handled
from featmesh.connector.commands.options import catalog_option
from featmesh.connector.documents import load_yaml, read_text
from featmesh.connector.errors import InputError
from featmesh.typedefs import load_typedefs, validate_document

# The order of the sections in an exported document (the order DESIGN.md names them).
EXPORT_ORDER = (
    "entityDefs",
    "relationshipDefs",
    "classificationDefs",
    "structDefs",
    "enumDefs",
    "businessMetadataDefs",
)
SHIPPED = "featmesh typedefs"


@click.group()
def typedefs() -> None:
    """Export, validate and push the catalog types."""


@typedefs.command("export", cls=Handled)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the document to FILE instead of stdout.",
)
def export(output: Path | None) -> None:
    """Print featmesh's type system as one Atlas typedefs document (JSON)."""
    doc = load_typedefs()
    text = json.dumps({section: doc[section] for section in EXPORT_ORDER}, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror}", path=str(output)) from None


@typedefs.command("validate", cls=Handled)
@click.argument("file", required=False, type=click.Path(path_type=Path))
def validate(file: Path | None) -> None:
    """Check a typedef document (JSON or YAML) against Atlas's rules.

    Without FILE, checks the type system featmesh ships.
    """
    label = SHIPPED if file is None else str(file)
    doc = load_typedefs() if file is None else _read_document(file)
    problems = validate_document(doc)
    if problems:
        for problem in problems:
            click.echo(f"{label}: {problem}")
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise InputError(f"{count}: Atlas would refuse this typedef document", path=label)
    counts = ", ".join(
        f"{len(doc.get(section) or [])} {section}" for section in EXPORT_ORDER if doc.get(section)
    )
    click.echo(f"{label}: OK, valid Atlas typedefs ({counts or 'empty'})")


def _read_document(path: Path) -> Any:
    """Parse a JSON or YAML typedef document; a parse error names the file and line."""
    if path.suffix.lower() == ".json":
        text = read_text(path)
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(f"invalid JSON: {err.msg}", path=str(path), where=str(err.lineno)) from None
    return load_yaml(path).data


@typedefs.command("push", cls=Handled)
@catalog_option()
@click.option("--dry-run", is_flag=True, help="Say what would be created or updated; send nothing.")
def push(catalog_uri: str | None, dry_run: bool) -> None:
    """Create featmesh's types in a catalog, or update them in place.

    Changes the catalog would refuse (a mandatory attribute added, an attribute's type
    changed, a superType removed, a relationship's category or ends changed) stop the
    push with a message before anything is sent.
    """
    from featmesh.connector.catalog import open_catalog

    catalog = open_catalog(catalog_uri, read_only=dry_run)
    try:
        changes = catalog.sync_typedefs(dry_run=dry_run)
    finally:
        catalog.close()
    verb = "would" if dry_run else "did"
    created, updated = changes["create"], changes["update"]
    click.echo(
        f"{catalog.uri}: {verb} create {len(created)} and update {len(updated)} types"
        + (f": create {', '.join(created)}" if created else "")
        + (f"; update {', '.join(updated)}" if updated else "")
    )

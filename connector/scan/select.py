"""Which stores a list of changed files belongs to: ``featmesh check FILE...`` as
pre-commit passes the files of a commit, like dbt's node selection.

A file inside a configured source (a manifest folder, a Feast repo, an Azure ML folder, a
Feathr workspace of ``featmesh.yaml``) selects that source; in a manifest folder, only the
stores its changed files declare are checked, the folder's other stores being read for
the mesh-wide rules alone (like the rest of the mesh, read from ``--catalog``). A change to
``featmesh.yaml``, a policy pack or the waivers file selects every configured source: it
can change any result. A manifest outside every configured source is checked on its own; a
``.py`` file of a Feast repo selects the repo its ``feature_store.yaml`` is in. Any other
file (a README, a CI file, a pack or waivers file not in use) belongs to no store: it is
left out with a note, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from featmesh.connector.model import FeatureStore
from featmesh.connector.sources import SourceSpec, parse_source, readers

MANIFEST_KIND = "manifest"
FEAST_CONFIG = "feature_store.yaml"
NOT_A_STORE = "belongs to no configured source and is not a manifest; not checked"
_MANIFEST_SHAPE = re.compile(rb"^(?:feature_sets|store)\s*:", re.MULTILINE)
_OTHER_FEATMESH = re.compile(rb"^kind:\s*['\"]?(?:PolicyPack|Waivers)\b", re.MULTILINE)


@dataclass
class Selection:
    specs: list[SourceSpec] = field(default_factory=list)
    changed: dict[str, set[Path]] = field(default_factory=dict)
    """Source uri -> the changed files in it, for sources narrowed to the stores those
    files declare (a manifest folder); a source selected whole has no entry."""
    notes: list[str] = field(default_factory=list)

    def add(self, spec: SourceSpec, file: Path | None = None) -> None:
        if all(s.uri != spec.uri for s in self.specs):
            self.specs.append(spec)
            if file is not None:
                self.changed[spec.uri] = set()
        if file is None:
            self.changed.pop(spec.uri, None)
        elif spec.uri in self.changed:
            self.changed[spec.uri].add(file)


def is_path_argument(arg: str) -> bool:
    """An existing file named without ``KIND:`` (what pre-commit passes)."""
    prefix, sep, _ = arg.partition(":")
    if sep and prefix in readers():
        return False
    return Path(arg).is_file()


def select(args: Sequence[str], configured: Sequence[SourceSpec], always: Iterable[Path]) -> Selection:
    """The sources (and, in manifest folders, the files) ``args`` select. ``always``: the
    files whose change selects every configured source (the config, its packs, waivers)."""
    selection = Selection()
    everything = {_resolved(p) for p in always}
    roots = [(spec, _root(spec)) for spec in configured if _is_local(spec)]
    for arg in args:
        if not is_path_argument(arg):
            selection.add(parse_source(arg))
            continue
        path = _resolved(Path(arg))
        if path in everything:
            for spec in configured:
                selection.add(spec)
            continue
        owner = _owner(path, roots)
        if owner is not None:
            narrow = owner.kind == MANIFEST_KIND and Path(owner.location).is_dir()
            selection.add(owner, path if narrow else None)
            continue
        own = _own_source(arg, path)
        if own is not None:
            selection.add(own)
        else:
            selection.notes.append(
                f"{arg}: belongs to no configured source and is not a manifest; not checked"
            )
    return selection


def narrowed(
    stores: Sequence[FeatureStore], changed: set[Path]
) -> tuple[list[FeatureStore], list[FeatureStore]]:
    """(the stores declared in ``changed`` files, the others), by where their sets are written."""
    keep: list[FeatureStore] = []
    rest: list[FeatureStore] = []
    for store in stores:
        files = {_resolved(Path(fs.origin.path)) for fs in store.feature_sets if fs.origin is not None}
        (keep if files & changed else rest).append(store)
    return keep, rest


def _owner(path: Path, roots: Sequence[tuple[SourceSpec, Path]]) -> SourceSpec | None:
    """The configured source whose location holds ``path`` (the innermost, if nested)."""
    found = [(len(root.parts), spec) for spec, root in roots if path == root or root in path.parents]
    return max(found, key=lambda f: f[0])[1] if found else None


def _own_source(arg: str, path: Path) -> SourceSpec | None:
    """A file outside the configured sources that is a store of its own: a manifest (not
    a policy pack or waivers file), a Feast repo's file, a Feathr conf; else None."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    if _OTHER_FEATMESH.search(head):
        return None
    if path.suffix == ".py" or path.name == FEAST_CONFIG:
        repo = next((p for p in [path.parent, *path.parent.parents] if (p / FEAST_CONFIG).is_file()), None)
        return parse_source(f"feast:{repo}") if repo is not None else None
    for kind, reader in sorted(readers().items()):
        if reader.detect(path):
            return SourceSpec(kind=kind, location=arg)
    if path.suffix in (".yaml", ".yml") and _MANIFEST_SHAPE.search(head):
        # a manifest with a mistyped apiVersion fails on it, never passes unread
        return SourceSpec(kind=MANIFEST_KIND, location=arg)
    return None


def _root(spec: SourceSpec) -> Path:
    """The folder a configured source's files live in: its location, or for a Feast source
    named by its registry file or ``feature_store.yaml``, the repo holding that file."""
    location = _resolved(Path(spec.location))
    if spec.kind == "feast" and location.is_file():
        return next(
            (p for p in (location.parent, location.parent.parent) if (p / FEAST_CONFIG).is_file()),
            location.parent,
        )
    return location


def _is_local(spec: SourceSpec) -> bool:
    return "://" not in spec.location


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()

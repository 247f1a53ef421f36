"""The check registry: built-in checks and third-party ones from entry points.

A check is one small function wrapped by :func:`check`, which returns a
:class:`Check` object and registers nothing. The registry finds checks where they
are, lazily, on first use:

* built-in: every :class:`Check` object defined at the top level of a module in
  ``policies.checks`` (no hand-kept import list: a new module there is found);
* third-party: every entry point in the group ``featmesh.checks``; an entry point
  names a :class:`Check`, a list of them, or a module whose top-level :class:`Check`
  objects are taken.

Four kinds of check function, by ``target`` and ``mesh``:

* feature-set check: ``fn(fs, params, ctx) -> Outcome``;
* feature check: ``fn(fs, params, ctx) -> Outcome | Iterable[(feature_name, Outcome)]``:
  yields only the features that do not pass (the others passed), or returns one
  :class:`Outcome` that holds for every feature of the set (``not_applicable`` when
  there is no profile, ``PASS`` when nothing could fail);
* mesh check (``mesh=True``): ``fn(mesh, params) -> Iterable[(fs, feature_name | None, Outcome)]``:
  sees every feature set of the mesh at once and yields only the targets that do not
  pass. It must group (by name, by source column...) rather than compare pairs;
* consumer check (``target="consumer"``): ``fn(consumer, standing, params) ->
  Iterable[(set_qualified_name, Outcome)]``: one model, endpoint or service, judged after
  the sets on each set's :class:`policies.consumers.Standing` (see that module).

``params`` is a read-only mapping with the pack's values over the check's defaults;
parameters declared with ``"format": "regex"`` arrive compiled (``re.Pattern``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from featmesh.connector.errors import FeatmeshError
from featmesh.connector.model import FeatureSet, store_has_versions
from featmesh.policies.types import Dimension, Target

GROUP = "featmesh.checks"

CheckFn = Callable[..., Any]

_SECTION = re.compile(r"^(Fails|Passes|Fix|Not applicable)\b")
"""The start of another section of a check's docstring."""


@dataclass(frozen=True, kw_only=True)
class Check:
    """A registered check: the function and the metadata beside it."""

    id: str
    fn: CheckFn = field(repr=False)
    target: Target
    dimension: Dimension
    mesh: bool = False
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON Schema of each parameter, with its ``default``."""
    provider: str = "featmesh"
    """``featmesh`` for built-in checks, else the distribution that declared it."""
    kinds: frozenset[str] | None = None
    """The set kinds (``model.SET_KINDS``) the check applies to; None: every kind."""
    versioned: bool = False
    """True: the check applies only to sets of stores that version their sets."""

    def not_applicable(self, fs: FeatureSet) -> str | None:
        """Why the check does not apply to ``fs`` (its kind, its store), or None."""
        if self.kinds is not None and fs.kind not in self.kinds:
            return f"not applicable to {fs.kind.replace('_', '-')} feature sets"
        if self.versioned and not store_has_versions(fs.store_kind):
            return f"{fs.store_kind} feature sets have no versions"
        return None

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.fn.__doc__ or "").strip()

    @property
    def description(self) -> str:
        """The docstring's first line."""
        return self.doc.splitlines()[0] if self.doc else self.id

    @property
    def fix(self) -> str:
        """How to fix what the check finds: the docstring's ``Fix:`` paragraph (its lines
        joined), or "" when the check has none."""
        found: list[str] = []
        for line in self.doc.splitlines():
            text = line.strip()
            if found and (not text or _SECTION.match(text)):
                break
            if found or text.startswith("Fix:"):
                found.append(text.removeprefix("Fix:").strip())
        return " ".join(part for part in found if part)

    def param_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: dict(spec) for name, spec in self.params.items()},
        }

    def defaults(self) -> dict[str, Any]:
        return {name: spec["default"] for name, spec in self.params.items() if "default" in spec}


def check(
    id: str,
    *,
    target: Target | str = Target.FEATURE_SET,
    dimension: Dimension | str,
    mesh: bool = False,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    kinds: Iterable[str] | None = None,
    versioned: bool = False,
) -> Callable[[CheckFn], Check]:
    """Wrap a check function into a :class:`Check` (registers nothing).

    ``kinds``: the set kinds the check applies to (default every kind); ``versioned``:
    only sets of stores that version their sets. Elsewhere the engine records the
    check as not applicable, which leaves the score's denominator.
    """

    def wrap(fn: CheckFn) -> Check:
        if not fn.__doc__:
            raise TypeError(f"check {id}: a check needs a docstring (what it catches, examples)")
        return Check(
            id=id,
            fn=fn,
            target=Target(target),
            dimension=Dimension(dimension),
            mesh=mesh,
            params=dict(params or {}),
            kinds=None if kinds is None else frozenset(kinds),
            versioned=versioned,
        )

    return wrap


class PluginError(FeatmeshError):
    """A check plugin could not be loaded or clashes with another check."""


def _checks_in(module: ModuleType) -> list[Check]:
    return [value for value in vars(module).values() if isinstance(value, Check)]


@cache
def builtin_checks() -> dict[str, Check]:
    package = importlib.import_module("featmesh.policies.checks")
    found: dict[str, Check] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"featmesh.policies.checks.{info.name}")
        for chk in _checks_in(module):
            if chk.id in found:
                raise PluginError(f"built-in check '{chk.id}' is defined twice")
            found[chk.id] = chk
    return found


def _plugin_objects(value: Any, where: str) -> list[Check]:
    if isinstance(value, Check):
        return [value]
    if isinstance(value, ModuleType):
        return _checks_in(value)
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        items = list(value)
        if all(isinstance(v, Check) for v in items):
            return items
    raise PluginError(f"entry point {where} is not a featmesh check, a list of checks or a module of checks")


@cache
def plugin_checks() -> dict[str, Check]:
    builtins = builtin_checks()
    found: dict[str, Check] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        where = f"'{ep.name} = {ep.value}' ({GROUP})"
        try:
            loaded = ep.load()
        except Exception as err:  # a broken plugin: say which, never a traceback
            raise PluginError(f"check plugin {where} failed to load: {err}") from err
        provider = ep.dist.name if ep.dist is not None else ep.name
        for chk in _plugin_objects(loaded, where):
            if chk.id in builtins or chk.id in found:
                raise PluginError(f"check plugin {where} redefines check '{chk.id}'")
            found[chk.id] = Check(
                id=chk.id,
                fn=chk.fn,
                target=chk.target,
                dimension=chk.dimension,
                mesh=chk.mesh,
                params=chk.params,
                provider=provider,
                kinds=chk.kinds,
                versioned=chk.versioned,
            )
    return found


def all_checks() -> dict[str, Check]:
    """Every check available: built-in first, then plugins."""
    return {**builtin_checks(), **plugin_checks()}


__all__ = [
    "GROUP",
    "Check",
    "PluginError",
    "all_checks",
    "builtin_checks",
    "check",
    "plugin_checks",
]

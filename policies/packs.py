"""Policy packs: YAML files of rules, validated at the door, with ``extends``.

A pack names rules (a registered check, its parameters, a severity, a dimension and
an optional scope). A pack may ``extends`` others (built-in packs by name, files by
a path relative to it); under ``overrides`` it changes their rules' severity,
parameters, scope or description, or disables them with ``enabled: false``. Every
error names the file and the line (unknown check, a parameter of the wrong type, a
regex that does not compile, a cycle in ``extends``, ...).

:func:`load_policy` resolves one or more packs into the :class:`PolicySet` the
engine evaluates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema

from featmesh.connector.documents import Document, load_schema, load_yaml, parse_yaml, validate
from featmesh.connector.errors import UsageError
from featmesh.connector.model import Consumer, FeatureSet, Origin
from featmesh.connector.patterns import PatternError, compile_linear
from featmesh.policies.registry import Check, all_checks
from featmesh.policies.types import Dimension, Severity

BUILTIN_PREFIX = "featmesh:packs/"
DEFAULT_PACK = "mesh-baseline"

DEFAULT_WEIGHTS = {
    Severity.INFO: 1.0,
    Severity.WARNING: 2.0,
    Severity.ERROR: 4.0,
    Severity.CRITICAL: 8.0,
}
DEFAULT_GRADES = (("A", 90.0), ("B", 80.0), ("C", 70.0), ("D", 60.0), ("F", 0.0))
DEFAULT_CRITICAL_CAP = 40.0
DEFAULT_WAIVER_DAYS = 365


@cache
def pack_schema() -> dict[str, Any]:
    return load_schema("featmesh.policies", "schema/policy-pack.schema.json")


def builtin_packs() -> list[str]:
    folder = resources.files("featmesh.policies").joinpath("packs")
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


# --------------------------------------------------------------------------- resolved objects


@dataclass(frozen=True, kw_only=True)
class Scope:
    """Which feature sets a rule applies to: each list given must match (any item)."""

    domains: frozenset[str] | None = None
    store_kinds: frozenset[str] | None = None
    stores: frozenset[str] | None = None
    tags: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> Scope:
        raw = raw or {}

        def names(key: str) -> frozenset[str] | None:
            return frozenset(raw[key]) if key in raw else None

        tags = []
        for text in raw.get("tags", ()):
            key, sep, value = text.partition("=")
            tags.append((key, value if sep else None))
        return cls(
            domains=names("domains"),
            store_kinds=names("store_kinds"),
            stores=names("stores"),
            tags=tuple(tags),
        )

    @property
    def everything(self) -> bool:
        return not (self.domains or self.store_kinds or self.stores or self.tags)

    def matches(self, fs: FeatureSet) -> bool:
        if self.domains is not None and fs.domain not in self.domains:
            return False
        if self.store_kinds is not None and fs.store_kind not in self.store_kinds:
            return False
        if self.stores is not None and fs.store not in self.stores:
            return False
        if self.tags:
            return any(
                key in fs.tags and (value is None or fs.tags[key] == value) for key, value in self.tags
            )
        return True

    def matches_consumer(self, store_kind: str, store: str, consumer: Consumer) -> bool:
        """The same tests on a consumer rule's target: the consumer's domain and tags, and
        the store that records it."""
        if self.domains is not None and consumer.domain not in self.domains:
            return False
        if self.store_kinds is not None and store_kind not in self.store_kinds:
            return False
        if self.stores is not None and store not in self.stores:
            return False
        if self.tags:
            return any(
                key in consumer.tags and (value is None or consumer.tags[key] == value)
                for key, value in self.tags
            )
        return True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("domains", "store_kinds", "stores"):
            value = getattr(self, key)
            if value is not None:
                out[key] = sorted(value)
        if self.tags:
            out["tags"] = [k if v is None else f"{k}={v}" for k, v in self.tags]
        return out


@dataclass(frozen=True, kw_only=True)
class Rule:
    id: str
    check: Check
    severity: Severity
    dimension: Dimension
    description: str
    params: Mapping[str, Any]
    """Parameters as the check receives them (defaults filled, regexes compiled)."""
    settings: Mapping[str, Any]
    """The same parameters as written (JSON-ready)."""
    scope: Scope
    pack: str
    origin: Origin

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "check": self.check.id,
            "severity": self.severity.value,
            "dimension": self.dimension.value,
            "description": self.description,
            "target": self.check.target.value,
            "mesh": self.check.mesh,
            "params": dict(self.settings),
            "scope": self.scope.to_json(),
            "pack": self.pack,
        }


@dataclass(frozen=True, kw_only=True)
class Scoring:
    weights: Mapping[Severity, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    critical_cap: float = DEFAULT_CRITICAL_CAP
    grades: tuple[tuple[str, float], ...] = DEFAULT_GRADES
    """(grade, lowest score), highest first; the last is 0."""

    def grade(self, score: float) -> str:
        for name, lowest in self.grades:
            if score >= lowest:
                return name
        return self.grades[-1][0]


@dataclass(frozen=True, kw_only=True)
class PolicySet:
    """What the engine evaluates: the rules of one or more resolved packs."""

    name: str
    version: str
    rules: tuple[Rule, ...]
    scoring: Scoring = field(default_factory=Scoring)
    waiver_max_days: int = DEFAULT_WAIVER_DAYS
    waiver_severity: Severity = Severity.WARNING
    packs: tuple[str, ...] = ()
    """Every pack file read, as ``name@version``, parents first."""
    disabled: frozenset[str] = frozenset()

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def knows(self, rule_id: str) -> bool:
        return rule_id in self.disabled or any(r.id == rule_id for r in self.rules)


# --------------------------------------------------------------------------- loading

Place = tuple[Document, tuple[Any, ...]]


@dataclass(frozen=True, kw_only=True)
class _Draft:
    """A rule while packs are merged, each value with the place it was written."""

    id: str
    check: str
    severity: str
    dimension: str | None
    description: str | None
    params: Mapping[str, Any]
    param_places: Mapping[str, Place]
    scope: Mapping[str, Any] | None
    enabled: bool
    pack: str
    place: Place
    """Where the rule was defined (identity across diamond-shaped extends)."""
    check_place: Place

    @property
    def key(self) -> tuple[str, tuple[Any, ...]]:
        return (self.place[0].path, self.place[1])


@dataclass
class _Pack:
    name: str
    version: str
    rules: dict[str, _Draft] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    read: list[str] = field(default_factory=list)


def _locate(spec: str, base: Path | None) -> tuple[str, Path | None]:
    """A pack spec -> (display name, file path or None for a built-in pack)."""
    looks_like_path = any(c in spec for c in "/\\") or spec.endswith((".yaml", ".yml"))
    if not looks_like_path:
        if spec in builtin_packs():
            return f"{BUILTIN_PREFIX}{spec}.yaml", None
        if base is None and not Path(spec).exists():
            known = ", ".join(builtin_packs())
            raise UsageError(f"no built-in policy pack '{spec}' (built-in: {known}), and no such file")
    path = Path(spec) if base is None or Path(spec).is_absolute() else base / spec
    return str(path), path


def _beside(spec: str, path: Path | None, base: Path | None) -> None:
    """An extended pack is built in, or a file in the extending pack's folder (or
    below it): never an absolute path nor one leading out of that folder."""
    if path is None:
        return
    if base is None:
        raise UsageError(f"extends '{spec}': a built-in pack extends only built-in packs")
    if Path(spec).is_absolute() or spec.startswith(("~", "\\")):
        raise UsageError(f"extends '{spec}': an absolute path (name a built-in pack or a file beside it)")
    if not path.resolve().is_relative_to(base.resolve()):
        raise UsageError(f"extends '{spec}': leads out of this pack's folder; name a file beside this pack")


def _read(display: str, path: Path | None) -> Document:
    if path is not None:
        return load_yaml(path)
    name = display[len(BUILTIN_PREFIX) :]
    text = resources.files("featmesh.policies").joinpath("packs").joinpath(name).read_text(encoding="utf-8")
    return parse_yaml(text, display)


class _NotAPack(UsageError):
    pass


_PACK_KEYS = frozenset({"name", "version", "rules", "extends", "overrides"})


def _load(display: str, path: Path | None, stack: tuple[str, ...]) -> _Pack:
    doc = _read(display, path)
    data = doc.data
    if not isinstance(data, Mapping) or "name" not in data or not set(data) & _PACK_KEYS - {"name"}:
        # said without quoting the file: it may be anything (.env, a key file)
        raise _NotAPack(f"{display}: not a policy pack (a mapping with name, version and rules)")
    validate(doc, pack_schema())
    data = doc.data
    pack = _Pack(name=data["name"], version=str(data["version"]))
    grades = data.get("scoring", {}).get("grades")
    if grades is not None and 0 not in grades.values():
        raise doc.error("one grade must start at 0 (the grade of the lowest scores)", ("scoring", "grades"))
    base = path.parent if path is not None else None
    for i, spec in enumerate(data.get("extends", ())):
        try:
            parent_display, parent_path = _locate(spec, base)
            _beside(spec, parent_path, base)
        except UsageError as err:
            raise doc.error(err.message, ("extends", i)) from None
        identity = str(parent_path.resolve()) if parent_path else parent_display
        if identity in stack:
            chain = " -> ".join([*stack[stack.index(identity) :], identity])
            raise doc.error(f"'extends' makes a cycle: {chain}", ("extends", i))
        if parent_path is not None and not parent_path.is_file():
            raise doc.error(f"extended pack '{spec}' not found ({parent_path})", ("extends", i))
        try:
            parent = _load(parent_display, parent_path, (*stack, identity))
        except _NotAPack:
            raise doc.error(
                f"extended file '{spec}' is not a policy pack (a mapping with name, version and rules)",
                ("extends", i),
            ) from None
        for rule_id, draft in parent.rules.items():
            mine = pack.rules.get(rule_id)
            if mine is not None and mine.key != draft.key:
                raise doc.error(
                    f"rule '{rule_id}' comes from two extended packs ('{mine.pack}' and "
                    f"'{draft.pack}'); rename one",
                    ("extends", i),
                )
            pack.rules[rule_id] = draft
        _merge_settings(pack.settings, parent.settings)
        pack.read.extend(r for r in parent.read if r not in pack.read)
    _merge_settings(pack.settings, {k: data[k] for k in ("scoring", "waivers") if k in data})
    for i, raw in enumerate(data.get("rules", ())):
        where = ("rules", i)
        if raw["id"] in pack.rules:
            earlier = pack.rules[raw["id"]]
            raise doc.error(
                f"rule '{raw['id']}' is already defined by pack '{earlier.pack}' "
                f"({_where(earlier.place)}); change it under 'overrides'",
                (*where, "id"),
            )
        params = raw.get("params", {})
        pack.rules[raw["id"]] = _Draft(
            id=raw["id"],
            check=raw["check"],
            severity=raw["severity"],
            dimension=raw.get("dimension"),
            description=raw.get("description"),
            params=dict(params),
            param_places={k: (doc, (*where, "params", k)) for k in params},
            scope=raw.get("scope"),
            enabled=raw.get("enabled", True),
            pack=pack.name,
            place=(doc, where),
            check_place=(doc, (*where, "check")),
        )
    for rule_id, raw in data.get("overrides", {}).items():
        where = ("overrides", rule_id)
        if rule_id not in pack.rules:
            known = ", ".join(sorted(pack.rules)) or "none"
            raise doc.error(f"overrides unknown rule '{rule_id}' (rules: {known})", where)
        params = raw.get("params", {})
        draft = pack.rules[rule_id]
        pack.rules[rule_id] = replace(
            draft,
            severity=raw.get("severity", draft.severity),
            dimension=raw.get("dimension", draft.dimension),
            description=raw.get("description", draft.description),
            params={**draft.params, **params},
            param_places={
                **draft.param_places,
                **{k: (doc, (*where, "params", k)) for k in params},
            },
            scope=raw.get("scope", draft.scope),
            enabled=raw.get("enabled", draft.enabled),
        )
    pack.read.append(f"{pack.name}@{pack.version}")
    return pack


def _merge_settings(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for section, values in new.items():
        merged = dict(into.get(section, {}))
        for key, value in values.items():
            if isinstance(value, Mapping) and key == "weights":
                merged[key] = {**merged.get(key, {}), **value}
            else:
                merged[key] = value
        into[section] = merged


def _where(place: Place) -> str:
    doc, pointer = place
    line = doc.line_of(pointer)
    return f"{doc.path}:{line}" if line else doc.path


# --------------------------------------------------------------------------- finishing


def _finish(draft: _Draft, checks: Mapping[str, Check]) -> Rule:
    doc, pointer = draft.place
    chk = checks.get(draft.check)
    if chk is None:
        close = [c for c in sorted(checks) if c.split("_")[0] in draft.check] or sorted(checks)
        check_doc, check_pointer = draft.check_place
        raise check_doc.error(
            f"unknown check '{draft.check}' (known: {', '.join(close[:12])}"
            f"{', ...' if len(close) > 12 else ''}; `featmesh policies list` shows all)",
            check_pointer,
        )
    settings = {**chk.defaults(), **draft.params}
    _validate_params(draft, chk, settings)
    return Rule(
        id=draft.id,
        check=chk,
        severity=Severity(draft.severity),
        dimension=Dimension(draft.dimension) if draft.dimension else chk.dimension,
        description=draft.description or chk.description,
        params={k: _compiled(draft, chk, k, v) for k, v in settings.items()},
        settings=settings,
        scope=Scope.from_json(draft.scope),
        pack=draft.pack,
        origin=Origin(path=doc.path, line=doc.line_of(pointer), pointer=f"rules[{draft.id}]"),
    )


def _param_place(draft: _Draft, key: Any) -> Place:
    if isinstance(key, str) and key in draft.param_places:
        return draft.param_places[key]
    doc, pointer = draft.place
    return doc, (*pointer, "params")


def _validate_params(draft: _Draft, chk: Check, settings: Mapping[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(chk.param_schema())
    for error in sorted(validator.iter_errors(settings), key=lambda e: list(map(str, e.path))):
        path = list(error.path)
        if error.validator == "additionalProperties":
            unknown = sorted(set(settings) - set(chk.params))
            key: Any = unknown[0] if unknown else None
            message = (
                f"check '{chk.id}' has no parameter '{key}' "
                f"(parameters: {', '.join(sorted(chk.params)) or 'none'})"
            )
        else:
            key = path[0] if path else None
            message = f"parameter '{key}' of check '{chk.id}': {error.message}"
        doc, pointer = _param_place(draft, key)
        raise doc.error(message, (*pointer, *path[1:]))


def _regex_params(chk: Check) -> dict[str, bool]:
    """Parameters that hold regexes: name -> True for a list of them."""
    found = {}
    for name, spec in chk.params.items():
        if spec.get("format") == "regex":
            found[name] = False
        elif spec.get("items", {}).get("format") == "regex":
            found[name] = True
    return found


def _frozen(value: Any) -> Any:
    """Lists become tuples and mappings read-only copies, so checks can cache on them."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    return value


def _compiled(draft: _Draft, chk: Check, key: str, value: Any) -> Any:
    many = _regex_params(chk).get(key)
    if many is None:
        return _frozen(value)
    items = value if many else [value]
    compiled = []
    for j, text in enumerate(items):
        try:
            compiled.append(compile_linear(text))
        except PatternError as err:
            doc, pointer = _param_place(draft, key)
            raise doc.error(
                f"parameter '{key}' of check '{chk.id}': bad regex {text!r}: {err}",
                (*pointer, j) if many else pointer,
            ) from None
    return tuple(compiled) if many else compiled[0]


def load_policy(
    specs: Sequence[str] | None = None, *, checks: Mapping[str, Check] | None = None
) -> PolicySet:
    """Resolve packs (built-in names or file paths) into one PolicySet.

    Several packs are combined: their rules must not share ids; scoring and waiver
    settings come from the first pack that sets them.
    """
    specs = list(specs or [DEFAULT_PACK])
    checks = checks if checks is not None else all_checks()
    drafts: dict[str, _Draft] = {}
    settings: dict[str, Any] = {}
    names: list[str] = []
    versions: list[str] = []
    read: list[str] = []
    for spec in specs:
        display, path = _locate(spec, None)
        pack = _load(display, path, (str(path.resolve()) if path else display,))
        for rule_id, draft in pack.rules.items():
            if rule_id in drafts and drafts[rule_id].key != draft.key:
                raise UsageError(
                    f"rule '{rule_id}' is defined by both packs '{drafts[rule_id].pack}' "
                    f"({_where(drafts[rule_id].place)}) and '{draft.pack}' ({_where(draft.place)})"
                )
            drafts[rule_id] = draft
        for section, values in pack.settings.items():
            settings.setdefault(section, values)
        names.append(pack.name)
        versions.append(pack.version)
        read.extend(r for r in pack.read if r not in read)
    rules = tuple(_finish(d, checks) for d in drafts.values() if d.enabled)
    return PolicySet(
        name="+".join(names),
        version="+".join(versions),
        rules=rules,
        scoring=_scoring(settings.get("scoring", {})),
        waiver_max_days=settings.get("waivers", {}).get("max_days", DEFAULT_WAIVER_DAYS),
        waiver_severity=Severity(settings.get("waivers", {}).get("severity", "warning")),
        packs=tuple(read),
        disabled=frozenset(d.id for d in drafts.values() if not d.enabled),
    )


def _scoring(raw: Mapping[str, Any]) -> Scoring:
    weights = {
        **DEFAULT_WEIGHTS,
        **{Severity(k): float(v) for k, v in raw.get("weights", {}).items()},
    }
    grades: tuple[tuple[str, float], ...] = DEFAULT_GRADES
    if "grades" in raw:
        grades = tuple(sorted(((g, float(v)) for g, v in raw["grades"].items()), key=lambda x: -x[1]))
    return Scoring(
        weights=weights,
        critical_cap=float(raw.get("critical_cap", DEFAULT_CRITICAL_CAP)),
        grades=grades,
    )


def validate_pack_file(path: str) -> PolicySet:
    """Load one pack file as ``featmesh policies validate`` does."""
    return load_policy([path])


def describe(rules: Iterable[Rule]) -> list[dict[str, Any]]:
    """The ``policies list --json`` rows."""
    return [
        {
            "id": r.id,
            "check": r.check.id,
            "severity": r.severity.value,
            "dimension": r.dimension.value,
            "description": r.description,
        }
        for r in rules
    ]

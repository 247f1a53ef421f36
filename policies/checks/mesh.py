"""Mesh-wide checks: what only shows when the domains are seen together.

Each groups the mesh's features by a key in one pass (no pairwise comparison), so the
cost grows with the number of features, not its square.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from featmesh.connector.model import FeatureSet, is_known_dtype
from featmesh.policies.context import PARENT_HASHES, Mesh
from featmesh.policies.registry import check
from featmesh.policies.types import Outcome, Related, fail, not_applicable

MeshResults = Iterator[tuple[FeatureSet, str | None, Outcome]]


def _domain(fs: FeatureSet) -> str:
    return fs.domain or fs.store


Example = tuple[FeatureSet, str]
"""A feature, as (its set, its name): turned into a qualifiedName only when reported."""


def _related(mesh: Mesh, example: Example, key: str) -> Related:
    """The other feature of a conflict, placed at its ``key`` (else its own line) when this
    run read its set; a set known only from the catalog has no file here."""
    fs, name = example
    origin = None
    if mesh.is_local(fs) and fs.origin is not None:
        prefix = f"features.{name}"
        origin = fs.origin.at(f"{prefix}.{key}", prefix, "")
    return Related(mesh.feature_qn(fs, name), origin)


def _distinct(placed: Iterable[tuple[Example, str]], mesh: Mesh) -> tuple[Related, ...]:
    """Each other feature once, in the order given (as ``dict.fromkeys`` of the Related
    would), without placing them: only Related of one qualifiedName can be equal, so
    only those are compared, and the same feature at the same key is the same place."""
    out: list[Related] = []
    seen: dict[str, list[tuple[int, str, Related]]] = {}
    for example, key in placed:
        fs, name = example
        qn = mesh.feature_qn(fs, name)
        earlier = seen.setdefault(qn, [])
        if any(id(fs) == ident and key == at for ident, at, _ in earlier):
            continue
        related = _related(mesh, example, key)
        if any(related == other for _, _, other in earlier):
            continue  # another key of the feature, placed on the same line
        earlier.append((id(fs), key, related))
        out.append(related)
    return tuple(out)


def _others(
    by_value: Mapping[str, Mapping[str, Example]], value: str, domain: str
) -> list[tuple[str, str, Example]]:
    """(other value, its domain, an example) for each value that disagrees with ``value``
    in a domain other than ``domain``."""
    found = []
    for other_value, domains in by_value.items():
        if other_value == value:
            continue
        for other_domain, example in domains.items():
            if other_domain != domain:
                found.append((other_value, other_domain, example))
                break
    return found


@check(
    "feature_meaning_conflict",
    target="feature",
    dimension="standardization",
    mesh=True,
    params={
        "meaning_tags": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["unit", "semantic_type"],
            "description": "Tags that state what a feature means; they must agree across domains.",
        },
        "ignore_names": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["id", "value", "label", "score", "count", "amount", "timestamp"],
            "description": "Names too generic to mean one thing mesh-wide.",
        },
    },
)
def feature_meaning_conflict(mesh: Mesh, p: Mapping[str, Any]) -> MeshResults:
    """The same feature name does not have a different type or meaning in another domain.

    Fails:  ``customer_age`` is ``int32`` in domain ``marketing`` and ``string`` in
    ``risk``; or ``balance`` has ``unit: eur`` in one domain and ``unit: usd`` in another
    Passes: both domains define ``customer_age`` as ``int32`` (or call one ``age_band``)
    Fix: use the other domain's type and unit for the name, or rename the feature
    (``age_band``) so the two no longer collide.
    """
    ignore = frozenset(p["ignore_names"])
    tags = tuple(p["meaning_tags"])
    # only the names of the sets read now can be reported: a check of one domain groups
    # the rest of the mesh's features of those names, not all of them
    wanted = {f.name for fs in mesh.sets if mesh.is_local(fs) for f in fs.features} - ignore
    # (aspect, feature name) -> value -> domain -> an example
    groups: dict[tuple[str, str], dict[str, dict[str, Example]]] = defaultdict(dict)
    for fs in mesh.sets:
        domain = _domain(fs)
        for feature in fs.features:
            name = feature.name
            if name not in wanted:
                continue
            groups[("dtype", name)].setdefault(feature.dtype, {}).setdefault(domain, (fs, name))
            if feature.tags:
                for tag in tags:
                    if tag in feature.tags:
                        by_value = groups[(tag, name)]
                        by_value.setdefault(feature.tags[tag], {}).setdefault(domain, (fs, name))
    disputed = {key: by_value for key, by_value in groups.items() if len(by_value) > 1}
    if not disputed:
        return
    names = {name for _, name in disputed}
    # a finding depends only on the name, its values and its domain: every feature alike
    # shares one outcome (its message and places), made once
    made: dict[tuple[Any, ...], Outcome | None] = {}
    for fs in mesh.sets:
        if not mesh.is_local(fs):
            continue
        domain = _domain(fs)
        for feature in fs.features:
            if feature.name not in names:
                continue
            aspects = [("dtype", feature.dtype)]
            aspects += [(t, feature.tags[t]) for t in tags if t in feature.tags]
            known = (feature.name, domain, *aspects)
            if known in made:
                outcome = made[known]
                if outcome is not None:
                    yield fs, feature.name, outcome
                continue
            outcome = made[known] = None
            conflicts = [
                (aspect, value, other, other_domain, example)
                for aspect, value in aspects
                if (aspect, feature.name) in disputed
                for other, other_domain, example in _others(disputed[(aspect, feature.name)], value, domain)
            ]
            if conflicts:
                problems = [
                    f"{aspect} is '{value}' here but '{other}' in domain '{other_domain}' "
                    f"({mesh.feature_qn(*example)})"
                    for aspect, value, other, other_domain, example in conflicts
                ]
                related = _distinct(
                    (
                        (example, "dtype" if aspect == "dtype" else "tags")
                        for aspect, _, _, _, example in conflicts
                    ),
                    mesh,
                )
                outcome = made[known] = fail(f"feature '{feature.name}': " + "; ".join(problems), related)
                yield fs, feature.name, outcome


_SPACE = re.compile(r"\s+")


@check(
    "duplicate_engineering",
    target="feature",
    dimension="lineage",
    mesh=True,
    params={
        "include_passthrough": {
            "type": "boolean",
            "default": False,
            "description": "Also flag a source column exposed unchanged in two domains.",
        }
    },
)
def duplicate_engineering(mesh: Mesh, p: Mapping[str, Any]) -> MeshResults:
    """The same source columns are not engineered the same way in two domains.

    Fails:  ``sum(amount) over 7d`` of ``abfss://raw@lake.../cards/txn`` column ``amount``
    is a feature in both ``payments`` and ``risk`` (duplicate effort: share one)
    Passes: ``risk`` reuses the ``payments`` feature set through ``derived_from``
    Fix: read the other domain's feature set through ``derived_from`` instead of
    computing the same feature again.
    """
    passthrough = p["include_passthrough"]
    normalized: dict[str | None, str] = {None: "", "": ""}  # texts recur: normalise once

    # only the keys of the sets read now can be reported: a set read from the catalog
    # matters when it reads one of their sources, a feature of it when it reads the same
    # columns (a check of one domain keys a small part of the rest of the mesh)
    sets_read = [fs for fs in mesh.sets if mesh.is_local(fs) and fs.sources]
    narrow = len(sets_read) < len(mesh.sets)
    uris = {s.uri.rstrip("/") for fs in sets_read for s in fs.sources}
    wanted = {_columns_key(f.source_columns) for fs in sets_read for f in fs.features if f.source_columns}

    # engineering key -> domain -> an example
    seen: dict[tuple[Any, ...], dict[str, Example]] = defaultdict(dict)
    keyed: list[tuple[FeatureSet, str, str, tuple[Any, ...]]] = []
    for fs in mesh.sets:
        if not fs.sources:
            continue
        domain = _domain(fs)
        local = mesh.is_local(fs)
        every = tuple(sorted({s.uri.rstrip("/") for s in fs.sources}))
        if narrow and not local and uris.isdisjoint(every):
            continue
        read: dict[tuple[str, ...], tuple[str, ...]] = {}  # a set's features share columns
        for feature in fs.features:
            columns = feature.source_columns
            if not columns:
                continue
            if narrow and not local and _columns_key(columns) not in wanted:
                continue
            sources = read.get(columns)
            if sources is None:
                sources = read[columns] = _feature_sources(fs, columns) or every
            transformation = normalized.get(feature.transformation)
            if transformation is None:
                text = feature.transformation or ""
                transformation = normalized[text] = _SPACE.sub(" ", text.strip().lower())
            columns = tuple(sorted(columns)) if len(columns) > 1 else columns  # _columns_key, inline
            if not passthrough and (not transformation or (transformation,) == columns):
                continue
            key = (sources, columns, transformation)
            seen[key].setdefault(domain, (fs, feature.name))
            if local:
                keyed.append((fs, domain, feature.name, key))
    made: dict[tuple[Any, ...], Outcome] = {}  # (name, key, domain): one outcome for all alike
    for fs, domain, name, key in keyed:
        examples = seen[key]
        if len(examples) < 2 and domain in examples:
            continue
        outcome = made.get((name, key, domain))
        if outcome is None:
            others = [(d, ex) for d, ex in examples.items() if d != domain][:3]
            if not others:
                continue
            listed = ", ".join(f"'{d}' ({mesh.feature_qn(*ex)})" for d, ex in others)
            outcome = made[(name, key, domain)] = fail(
                f"feature '{name}' engineers {', '.join(key[1])} of {', '.join(key[0])} "
                f"the same way as domain {listed}",
                tuple(_related(mesh, ex, "source_columns") for _, ex in others),
            )
        yield fs, name, outcome


def _columns_key(columns: tuple[str, ...]) -> tuple[str, ...]:
    """A feature's source columns in the order its engineering key holds them."""
    return tuple(sorted(columns)) if len(columns) > 1 else columns


def _feature_sources(fs: FeatureSet, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The sources a feature reads: those listing one of its columns (a set with several
    sources, say a table joined onto another), or none when no source lists columns."""
    if len(fs.sources) == 1:
        return (fs.sources[0].uri.rstrip("/"),)
    wanted = set(columns)
    return tuple(sorted({s.uri.rstrip("/") for s in fs.sources if wanted & set(s.columns)}))


@check("stale_derived", dimension="lineage", mesh=True)
def stale_derived(mesh: Mesh, p: Mapping[str, Any]) -> MeshResults:
    """A derived feature set was built from its parents' current definitions.

    Sources record, when a derived set is built, each parent's content hash in
    ``extra["parent_hashes"] = {parent qualifiedName: hash}``; a parent whose current
    definition hashes differently has changed since.
    Fails:  ``parent_hashes`` says ``{".../card_txn@1": "ab12..."}`` but ``card_txn@1``
    now hashes to ``"cd34..."`` (its features changed after the derived set was built)
    Passes: the recorded hashes equal the parents' current ones
    Not applicable to sets that derive from nothing, or whose source records no hashes.
    (``featmesh scan`` records them from its run history: the parents' hashes when the
    derived set's own definition last changed.)
    Fix: rebuild the derived set from its parents' current definitions and scan again
    (the new hashes are recorded).
    """
    for fs in mesh.sets:
        if not mesh.is_local(fs):
            continue
        if not fs.derived_from:
            yield fs, None, not_applicable("derives from no feature set")
            continue
        recorded = fs.extra.get(PARENT_HASHES)
        if not isinstance(recorded, Mapping):
            yield fs, None, not_applicable("the source records no parent hashes")
            continue
        problems = []
        for ref in fs.derived_from:
            qn = ref.qualified_name
            parent = mesh.by_qn.get(qn)
            if parent is None:
                continue  # an unknown parent is the lineage rules' business
            if qn not in recorded:
                problems.append(f"no hash recorded for parent {qn}")
            elif recorded[qn] != parent.extra.get("published_content_hash", parent.content_hash):
                problems.append(f"parent {qn} changed after this set was built")
        if problems:
            yield fs, None, fail("; ".join(problems))


@check(
    "join_key_type_consistent",
    dimension="standardization",
    mesh=True,
    params={
        "across_stores": {
            "type": "boolean",
            "default": True,
            "description": "Also compare the stores of a domain (else only the sets of one store).",
        }
    },
)
def join_key_type_consistent(mesh: Mesh, p: Mapping[str, Any]) -> MeshResults:
    """A join key name has one type across the feature sets of a store and of its domain.

    Two sets keyed by the same column name with different types cannot be joined on it
    (a training query joining them casts, or matches nothing).
    Fails:  entity ``bureau_balance`` types ``sk_id_bureau`` as ``int64`` and entity
    ``stream_bureau_balance`` as ``string``, in one Feast project
    Passes: both entities type ``sk_id_bureau`` as ``int64``
    Fix: give the key one type everywhere it is declared (the entity's ``value_type`` /
    ``join_keys[].dtype``), or name the keys differently where they hold different things.
    Keys without a known type are ``join-keys-typed``'s business and are not compared.
    """
    across = p["across_stores"]
    # (scope, key name) -> dtype -> store -> an example set
    groups: dict[tuple[str, str], dict[str, dict[str, FeatureSet]]] = defaultdict(dict)
    for fs in mesh.sets:
        store = f"{fs.store_kind}/{fs.store}"
        scopes = (f"store:{store}", f"domain:{_domain(fs)}") if across else (f"store:{store}",)
        for key in fs.join_keys:
            if key.expression is not None or not is_known_dtype(key.dtype):
                continue
            for scope in scopes:
                groups[(scope, key.name)].setdefault(key.dtype, {}).setdefault(store, fs)
    disputed = {k: by_dtype for k, by_dtype in groups.items() if len(by_dtype) > 1}
    if not disputed:
        return
    for fs in mesh.sets:
        if not mesh.is_local(fs):
            continue
        store = f"{fs.store_kind}/{fs.store}"
        problems: list[str] = []
        for key in fs.join_keys:
            mentioned: set[str] = set()
            in_store = disputed.get((f"store:{store}", key.name), {})
            for dtype, stores in in_store.items():
                if dtype != key.dtype and store in stores:
                    mentioned.add(dtype)
                    problems.append(
                        f"join key '{key.name}' is '{key.dtype}' here but '{dtype}' in "
                        f"{mesh.qn(stores[store])} of the same store"
                    )
            in_domain = disputed.get((f"domain:{_domain(fs)}", key.name), {}) if across else {}
            for dtype, stores in in_domain.items():
                other = next((s for s in stores if s != store), None)
                if dtype != key.dtype and dtype not in mentioned and other is not None:
                    problems.append(
                        f"join key '{key.name}' is '{key.dtype}' here but '{dtype}' in "
                        f"{mesh.qn(stores[other])} of store '{other}', domain '{_domain(fs)}'"
                    )
        if problems:
            yield fs, None, fail("; ".join(problems))

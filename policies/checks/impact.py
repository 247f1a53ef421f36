"""Changes that break what reads a feature set: models, endpoints, derived sets.

These compare the definitions read now with what the catalog holds (``featmesh check
--catalog``): the published copies of the same sets (``Mesh.previous``) and who reads
them (``Mesh.consumers``, and the sets derived from them). Without a catalog they are not
applicable. Indexes are built once per run: readers by set, children by parent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from featmesh.connector.model import Consumer, FeatureSet, newest_version
from featmesh.policies.checks.mesh import MeshResults
from featmesh.policies.consumers import Standing
from featmesh.policies.context import Mesh
from featmesh.policies.registry import check
from featmesh.policies.types import PASS, Outcome, fail, not_applicable

Reader = tuple[str, str | None, frozenset[str] | None]
"""(who, their owner, the features they read; None: every feature)."""


def _who(consumer: Consumer) -> str:
    version = f"@{consumer.version}" if consumer.version else ""
    return f"{consumer.kind} {consumer.name}{version}"


def _readers(mesh: Mesh) -> dict[str, list[Reader]]:
    """Set qualifiedName -> what reads it: consumers and derived sets."""
    found: dict[str, list[Reader]] = defaultdict(list)
    for consumer in mesh.consumers:
        for read in consumer.reads:
            features = frozenset(read.features) if read.features else None
            found[read.feature_set.qualified_name].append((_who(consumer), consumer.owner, features))
    for fs in mesh.sets:
        for parent in fs.derived_from:
            columns = frozenset(c for f in fs.features for c in f.source_columns)
            found[parent.qualified_name].append(
                (f"derived set {fs.name}@{fs.version or 'latest'}", fs.owner, columns or None)
            )
    return found


def _named(readers: Iterable[Reader]) -> str:
    return ", ".join(f"{who} ({owner or 'no owner'})" for who, owner, _ in readers)


def _using(readers: list[Reader], features: Iterable[str] | None) -> list[Reader]:
    """The readers that use any of ``features`` (all readers when None)."""
    if features is None:
        return readers
    wanted = set(features)
    return [r for r in readers if r[2] is None or r[2] & wanted]


@check("breaking_change", dimension="lineage", mesh=True)
def breaking_change(mesh: Mesh, p: Mapping[str, Any]) -> MeshResults:
    """A change to a published feature set does not break what reads it.

    Compared with the published copy of the same set and version: a removed feature, a
    changed dtype or changed join keys; compared with the set's published versions: a
    version lower than the newest published one. Each break is its own finding (a
    removed or retyped feature targets that feature) naming every model, endpoint or
    derived set that uses what changed, with its owner.
    Fails:  ``txn_aggregates@2`` drops ``txn_count_7d``, which model ``credit-limit@4``
    (risk-modelling@contoso.com) reads
    Passes: the same change when nothing reads ``txn_count_7d``; adding a feature
    Not applicable without a catalog (nothing published to compare with), or to a set
    never published.
    Fix: publish the change as a new version (``version: 3``) and keep the old one until
    its readers move, or tell the owners named before removing it.
    """
    published: dict[tuple[str, str, str], list[FeatureSet]] = defaultdict(list)
    for fs in mesh.previous:
        published[(fs.store_kind, fs.store, fs.name)].append(fs)
    readers = _readers(mesh) if published else {}
    for fs in mesh.sets:
        if not mesh.is_local(fs):
            continue
        copies = published.get((fs.store_kind, fs.store, fs.name))
        if not copies:
            yield fs, None, not_applicable("never published (or checked without --catalog)")
            continue
        breaks: list[tuple[str | None, str]] = []
        same = next((c for c in copies if c.version == fs.version), None)
        if same is not None:
            breaks += _definition_breaks(fs, same, readers.get(same.qualified_name, []))
        newest = newest_version([c.version for c in copies])
        if newest != fs.version and newest_version([newest, fs.version]) == newest and same is None:
            top = next(c for c in copies if c.version == newest)
            users = readers.get(top.qualified_name, [])
            if users:
                breaks.append(
                    (
                        None,
                        f"version {fs.version or 'latest'} is lower than the published {newest}, "
                        f"which {_named(users)} use",
                    )
                )
        if not breaks:
            yield fs, None, PASS
        for subject, message in breaks:
            yield fs, subject, fail(message)


def _definition_breaks(
    fs: FeatureSet, before: FeatureSet, readers: list[Reader]
) -> list[tuple[str | None, str]]:
    """(the feature that broke, or None for the whole set; what broke and for whom)."""
    out: list[tuple[str | None, str]] = []
    now = {f.name: f for f in fs.features}
    for feature in before.features:
        current = now.get(feature.name)
        if current is None:
            users = _using(readers, [feature.name])
            if users:
                out.append((feature.name, f"removes feature {feature.name}, read by {_named(users)}"))
        elif current.dtype != feature.dtype and "unknown" not in (current.dtype, feature.dtype):
            users = _using(readers, [feature.name])
            if users:
                out.append(
                    (
                        feature.name,
                        f"changes the dtype of {feature.name} from {feature.dtype} to {current.dtype}, "
                        f"read by {_named(users)}",
                    )
                )
    old_keys = [(k.name, k.dtype) for k in before.join_keys]
    new_keys = [(k.name, k.dtype) for k in fs.join_keys]
    if before.join_keys and old_keys != new_keys and readers:
        shown = ", ".join(f"{n}:{d}" for n, d in new_keys) or "none"
        was = ", ".join(f"{n}:{d}" for n, d in old_keys)
        out.append((None, f"changes the join keys from {was} to {shown}, which {_named(readers)} join on"))
    return out


@check("consumer_on_old_version", dimension="lineage", mesh=True)
def consumer_on_old_version(mesh: Mesh, p: Mapping[str, Any]) -> MeshResults:
    """No model or derived set reads an old version of this feature set.

    A model, endpoint or derived set that reads a version of the set while a newer one
    exists was built on its parent's old version: its features may no longer mean what
    the current set computes.
    Fails:  ``fraud-model@7`` reads ``txn_aggregates@1`` while ``txn_aggregates@2`` exists
    Passes: every reader reads the newest version
    Not applicable to a set that has only one version in the mesh.
    Fix: move the reader named to the newest version of the set (or retire the old
    version once nothing reads it).
    """
    versions: dict[tuple[str, str, str], list[FeatureSet]] = defaultdict(list)
    for fs in mesh.sets:
        versions[(fs.store_kind, fs.store, fs.name)].append(fs)
    readers = _readers(mesh)
    for fs in mesh.sets:
        if not mesh.is_local(fs):
            continue
        all_versions = versions[(fs.store_kind, fs.store, fs.name)]
        if len(all_versions) < 2:
            yield fs, None, not_applicable("the only version of this set in the mesh")
            continue
        newest = newest_version([v.version for v in all_versions])
        if fs.version == newest:
            yield fs, None, PASS
            continue
        users = readers.get(fs.qualified_name, [])
        if users:
            yield fs, None, fail(f"{_named(users)} read this old version; version {newest} is current")
        else:
            yield fs, None, PASS


@check("consumer_on_old_revision", dimension="lineage", mesh=True)
def consumer_on_old_revision(mesh: Mesh, p: Mapping[str, Any]) -> MeshResults:
    """No model was trained on an older definition of this feature set than the one it has.

    A consumer may name the revision of each set it was trained on (a manifest's
    ``consumers: reads: revision:``, the catalog's ``featureSetRevisions``). Where the set's
    definition has changed since, with or without a new version (a Feast view is edited
    in place), the model was trained on features the set no longer computes.
    Fails:  model ``fraud-model@7`` names revision ``3f9c2a1b7d4e`` of ``driver_stats``,
    which has gained a feature since (its revision is now ``8a0e5c7f1b2d``)
    Passes: every consumer naming a revision of the set names the one it has now
    Not applicable to a set no consumer names a revision of.
    Fix: retrain the model named on the set's current definition and record that revision
    where the model is declared (``consumers: reads: revision:``), or restore the definition
    it was trained on.
    """
    named: dict[str, list[tuple[str, str | None, str]]] = defaultdict(list)
    for consumer in mesh.consumers:
        for read in consumer.reads:
            if read.revision:
                named[read.feature_set.qualified_name].append((_who(consumer), consumer.owner, read.revision))
    for fs in mesh.sets:
        if not mesh.is_local(fs):
            continue
        trained = named.get(fs.qualified_name)
        if not trained:
            yield fs, None, not_applicable("no consumer names a revision of this set")
            continue
        old = [(who, owner, rev) for who, owner, rev in trained if not fs.is_revision(rev)]
        if not old:
            yield fs, None, PASS
            continue
        which = ", ".join(f"{who} ({owner or 'no owner'}) on {rev}" for who, owner, rev in old)
        yield fs, None, fail(
            f"trained on an older definition: {which}; the set's revision is now {fs.revision} "
            "(retrain on it, or name the revision the model was trained on)"
        )


@check("consumer_on_noncompliant_set", target="consumer", dimension="lineage")
def consumer_on_noncompliant_set(
    consumer: Consumer, standing: Mapping[str, Standing], p: Mapping[str, Any]
) -> Iterator[tuple[str, Outcome]]:
    """No model, endpoint or service reads a non-compliant or retired feature set.

    Judged after every set is evaluated, one finding per set read, listed with that set
    and naming the consumer and its owner (once per set, however many times it reads
    it). A set of a store not scanned in the run is judged on what the run history
    recorded of it; a set nothing recorded has no standing and is not judged.
    Fails:  model ``fraud-model@7`` (fraud-ml@contoso.com) reads
    ``risk-shared/customer_risk_360@1``, which is non-compliant (grade D, score 58.0);
    or reads a set removed from its store
    Passes: every set it reads is compliant
    Fix: bring the set read to compliance (its own findings say how), move the consumer to
    a compliant set or version, or waive this rule for the consumer while it moves.
    """
    who = f"{_who(consumer)} ({consumer.owner or 'no owner'})"
    seen: set[str] = set()
    for read in consumer.reads:
        qn = read.feature_set.qualified_name
        known = standing.get(qn)
        if known is None or qn in seen:
            continue
        seen.add(qn)
        if known.retired:
            yield qn, fail(f"{who} reads {known.name}, which is retired ({known.retired})")
        elif known.compliant is False:
            score = f", score {known.score:g}" if known.score is not None else ""
            yield (
                qn,
                fail(f"{who} reads {known.name}, which is non-compliant (grade {known.grade or '?'}{score})"),
            )

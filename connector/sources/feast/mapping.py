"""A decoded Feast registry -> the neutral model, one :class:`FeatureStore` per project.

Feature views and stream feature views become feature sets read from their batch and
stream sources; on-demand feature views become feature sets derived from the views they
read (lineage) plus their request sources. Feature services and saved datasets are the
store's consumers, each with the exact features it reads (a saved dataset's
``<view>:<feature>`` references, a service's projections); a set also keeps the names of
the services that use it. Owner is ``spec.owner``, else ``tags["owner"]``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from featmesh.connector.errors import InputError
from featmesh.connector.model import (
    BATCH,
    ON_DEMAND,
    STREAM,
    Consumer,
    ConsumerRead,
    Entity,
    Feature,
    FeatureSet,
    FeatureSetRef,
    FeatureStore,
    KeyColumn,
    KeyPlace,
    LazyKeys,
    Origin,
    SourceRef,
    is_known_dtype,
)
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources.feast import KIND
from featmesh.connector.sources.feast.datasources import source_ref
from featmesh.connector.sources.feast.names import feast_dtype, value_type_name

DUMMY_ENTITY = "__dummy"
"""The entity Feast gives entity-less feature views (join key ``__dummy_id``)."""


@dataclass
class _Project:
    """What the registry holds for one project, before mapping."""

    name: str
    spec: Any = None
    entities: dict[str, Any] = field(default_factory=dict)
    views: list[tuple[str, Any]] = field(default_factory=list)
    services: list[Any] = field(default_factory=list)
    saved_datasets: list[Any] = field(default_factory=list)
    data_sources: list[str] = field(default_factory=list)


LineFinder = Callable[[str], Iterable[tuple[str, KeyPlace]]]
"""A view's name -> its key lines."""


def stores(
    registry: Any, *, uri: str, origin: str, report: SourceReport, lines: LineFinder | None = None
) -> list[FeatureStore]:
    """Every project of the registry as a FeatureStore, in project-name order. ``lines``
    finds a view's key lines (in the repo's Python) when a finding asks for one."""
    projects = _group(registry)
    out = []
    for name in sorted(projects):
        project = projects[name]
        store = _store(project, uri=uri, origin=origin, lines=lines)
        report.count("projects")
        report.count("entities", len(store.entities))
        report.count("feature_views", len(store.feature_sets))
        report.count("feature_services", len(project.services))
        report.count("saved_datasets", len(project.saved_datasets))
        out.append(store)
    return out


def _group(registry: Any) -> dict[str, _Project]:
    projects: dict[str, _Project] = {}

    def project(name: str) -> _Project:
        return projects.setdefault(name, _Project(name=name))

    for p in registry.projects:
        project(p.spec.name).spec = p.spec
    for meta in registry.project_metadata:
        project(meta.project)
    for e in registry.entities:
        if e.spec.name != DUMMY_ENTITY:
            project(e.spec.project).entities[e.spec.name] = e.spec
    for kind, views in (
        ("feature_view", registry.feature_views),
        ("stream_feature_view", registry.stream_feature_views),
        ("on_demand_feature_view", registry.on_demand_feature_views),
    ):
        for view in views:
            project(view.spec.project).views.append((kind, view.spec))
    for service in registry.feature_services:
        project(service.spec.project).services.append(service.spec)
    for saved in registry.saved_datasets:
        project(saved.spec.project).saved_datasets.append(saved.spec)
    for ds in registry.data_sources:
        project(ds.project).data_sources.append(ds.name)
    return _adopt_unnamed(projects)


def _adopt_unnamed(projects: dict[str, _Project]) -> dict[str, _Project]:
    """Objects whose spec names no project belong to the registry's only project; with
    several projects there is no telling, and they are left out."""
    unnamed = projects.pop("", None)
    if unnamed is None or len(projects) != 1:
        return projects
    (only,) = projects.values()
    only.entities = {**unnamed.entities, **only.entities}
    only.views += unnamed.views
    only.services += unnamed.services
    only.saved_datasets += unnamed.saved_datasets
    only.data_sources += unnamed.data_sources
    return projects


_STREAMS = frozenset({"push", "kafka", "kinesis"})


def _store(project: _Project, *, uri: str, origin: str, lines: LineFinder | None = None) -> FeatureStore:
    entities = {name: _entity(spec) for name, spec in project.entities.items()}
    consumers = _consumers(project.services)
    mapper = _ViewMapper(project=project.name, entities=entities, origin=origin, lines=lines)
    plain = {spec.name: spec for kind, spec in project.views if kind != "on_demand_feature_view"}
    sets = []
    for kind, spec in project.views:
        fs = mapper.on_demand(spec, plain) if kind == "on_demand_feature_view" else mapper.view(spec, kind)
        if spec.name in consumers:
            fs = _with_consumers(fs, consumers[spec.name])
        sets.append(fs)
    entities = _typed_from_views(entities, sets)
    sets = [_keys_typed_by_entities(fs, entities) for fs in sets]
    spec = project.spec
    tags = _tags(spec.tags) if spec is not None else {}
    extra: dict[str, Any] = {}
    if project.services:
        extra["feature_services"] = [_service(s) for s in sorted(project.services, key=lambda s: s.name)]
    if project.data_sources:
        extra["data_sources"] = sorted(project.data_sources)
    return FeatureStore(
        kind=KIND,
        name=project.name,
        uri=uri,
        description=spec.description if spec is not None else "",
        owner=_owner(spec.owner, tags) if spec is not None else None,
        entities=tuple(entities[n] for n in sorted(entities)),
        feature_sets=tuple(sorted(sets, key=lambda fs: fs.name)),
        consumers=_store_consumers(project, {fs.name: fs for fs in sets}, origin),
        tags=tags,
        extra=extra,
    )


def _typed_from_views(entities: dict[str, Entity], sets: list[FeatureSet]) -> dict[str, Entity]:
    """Entities declared without a value type (Feast allows it, and ``feast apply``
    then records ``UNKNOWN``) take their join key's type from the views keyed by
    them, whose ``entity_columns`` carry the column's type, when the views agree."""
    out = dict(entities)
    for name, entity in entities.items():
        if len(entity.columns) != 1 or is_known_dtype(entity.columns[0].dtype):
            continue
        column = entity.columns[0]
        seen = {
            (k.dtype, k.raw_type)
            for fs in sets
            if name in fs.entities
            for k in fs.join_keys
            if k.name == column.name and is_known_dtype(k.dtype)
        }
        if len(seen) == 1:
            dtype, raw = seen.pop()
            out[name] = replace(
                entity,
                columns=(replace(column, dtype=dtype, raw_type=raw),),
                extra={**entity.extra, "key_type_from": "feature views"},
            )
    return out


def _keys_typed_by_entities(fs: FeatureSet, entities: dict[str, Entity]) -> FeatureSet:
    """A set whose join keys came from untyped entities (an on-demand view, which records
    no entity columns) takes the type those entities got from the views keyed by them."""
    if all(is_known_dtype(k.dtype) for k in fs.join_keys):
        return fs
    typed = {c.name: c for n in fs.entities if n in entities for c in entities[n].columns}
    keys = tuple(
        k
        if is_known_dtype(k.dtype) or k.name not in typed or not is_known_dtype(typed[k.name].dtype)
        else replace(k, dtype=typed[k.name].dtype, raw_type=typed[k.name].raw_type)
        for k in fs.join_keys
    )
    return fs if keys == fs.join_keys else replace(fs, join_keys=keys)


def _entity(spec: Any) -> Entity:
    raw = value_type_name(spec.value_type)
    extra = {"owner": spec.owner} if spec.owner else {}
    return Entity(
        name=spec.name,
        columns=(
            KeyColumn(
                name=spec.join_key or spec.name,
                dtype=feast_dtype(raw),
                raw_type=raw,
                description=spec.description,
            ),
        ),
        description=spec.description,
        tags=_tags(spec.tags),
        extra=extra,
    )


@dataclass(frozen=True, kw_only=True)
class _ViewMapper:
    project: str
    entities: dict[str, Entity]
    origin: str
    lines: LineFinder | None = None

    def _keys(self, view: str) -> Iterable[tuple[str, KeyPlace]]:
        """The view's key lines, looked up only when used."""
        return LazyKeys(self.lines, view) if self.lines is not None else ()

    def view(self, spec: Any, kind: str) -> FeatureSet:
        """A feature view or a stream feature view."""
        entity_names = tuple(e for e in spec.entities if e != DUMMY_ENTITY)
        self._check_entities(spec.name, kind, entity_names)
        keys = _key_columns(spec.entity_columns) or self._keys_of(entity_names)
        features = tuple(_feature(f) for f in spec.features)
        read = [k.name for k in keys] + [f.name for f in features]
        sources = [
            source_ref(getattr(spec, s), read) for s in ("batch_source", "stream_source") if spec.HasField(s)
        ]
        timestamp = getattr(spec, "timestamp_field", "") or next(
            (s.timestamp_field for s in sources if s.timestamp_field), None
        )
        tags = _tags(spec.tags)
        streaming = kind == "stream_feature_view" or any(s.kind in _STREAMS for s in sources)
        return FeatureSet(
            store_kind=KIND,
            store=self.project,
            name=spec.name,
            kind=STREAM if streaming else BATCH,
            owner=_owner(spec.owner, tags),
            description=spec.description,
            tags=tags,
            entities=entity_names,
            join_keys=keys,
            timestamp_field=timestamp,
            ttl_seconds=spec.ttl.seconds if spec.HasField("ttl") and spec.ttl.seconds > 0 else None,
            features=features,
            sources=_unique(sources),
            extra=_view_extra(spec, kind),
            origin=Origin(path=self.origin, pointer=f"{kind}s/{spec.name}", keys=self._keys(spec.name)),
        )

    def on_demand(self, spec: Any, views: dict[str, Any]) -> FeatureSet:
        """An on-demand feature view: derived from the views it reads, plus request data."""
        parents: list[str] = []
        sources: list[SourceRef] = []
        inputs: dict[str, str] = {}
        for entry in spec.sources:
            source = entry.value
            if source.HasField("request_data_source"):
                sources.append(source_ref(source.request_data_source))
                inputs[entry.key] = "request_source"
                continue
            if source.HasField("feature_view_projection"):
                parents.append(source.feature_view_projection.feature_view_name)
            elif source.HasField("feature_view"):
                parents.append(source.feature_view.spec.name)
            inputs[entry.key] = "feature_view"
        entity_names = tuple(e for e in spec.entities if e != DUMMY_ENTITY) or tuple(
            dict.fromkeys(e for p in parents if p in views for e in views[p].entities if e != DUMMY_ENTITY)
        )
        self._check_entities(spec.name, "on_demand_feature_view", entity_names)
        keys = _key_columns(spec.entity_columns) or self._keys_of(entity_names)
        udf = _udf(spec)
        label = f"{udf['udf']} ({udf['mode']})" if udf.get("mode") else udf.get("udf")
        tags = _tags(spec.tags)
        extra: dict[str, Any] = {"feast_type": "on_demand_feature_view", "inputs": inputs, **udf}
        if spec.write_to_online_store:
            extra["write_to_online_store"] = True
        return FeatureSet(
            store_kind=KIND,
            store=self.project,
            name=spec.name,
            kind=ON_DEMAND,
            owner=_owner(spec.owner, tags),
            description=spec.description,
            tags=tags,
            entities=entity_names,
            join_keys=keys,
            features=tuple(_feature(f, transformation=label) for f in spec.features),
            sources=_unique(sources),
            derived_from=tuple(
                FeatureSetRef(store_kind=KIND, store=self.project, name=p) for p in dict.fromkeys(parents)
            ),
            extra=extra,
            origin=Origin(
                path=self.origin, pointer=f"on_demand_feature_views/{spec.name}", keys=self._keys(spec.name)
            ),
        )

    def _check_entities(self, view: str, kind: str, names: Iterable[str]) -> None:
        for name in names:
            if name not in self.entities:
                known = ", ".join(sorted(self.entities)) or "none"
                raise InputError(
                    f"{kind} '{view}' of project '{self.project}' uses entity '{name}', "
                    f"which the registry does not hold (entities: {known})",
                    path=self.origin,
                    where=f"{kind}s/{view}",
                )

    def _keys_of(self, names: Iterable[str]) -> tuple[KeyColumn, ...]:
        return tuple(c for n in names for c in self.entities[n].columns)


def _key_columns(specs: Iterable[Any]) -> tuple[KeyColumn, ...]:
    keys = []
    for spec in specs:
        if spec.name == f"{DUMMY_ENTITY}_id":
            continue
        raw = value_type_name(spec.value_type)
        keys.append(KeyColumn(name=spec.name, dtype=feast_dtype(raw), raw_type=raw))
    return tuple(keys)


def _feature(spec: Any, *, transformation: str | None = None) -> Feature:
    raw = value_type_name(spec.value_type)
    extra: dict[str, Any] = {}
    if spec.vector_index:
        extra = {"vector_index": True, "vector_length": spec.vector_length}
    return Feature(
        name=spec.name,
        dtype=feast_dtype(raw),
        raw_type=raw,
        description=spec.description,
        tags=_tags(spec.tags),
        transformation=transformation,
        extra=extra,
    )


def _view_extra(spec: Any, kind: str) -> dict[str, Any]:
    extra: dict[str, Any] = {"feast_type": kind, "online": spec.online}
    if kind == "feature_view":
        extra["offline"] = spec.offline
    if spec.mode:
        extra["mode"] = spec.mode
    if spec.version:
        extra["feast_version"] = spec.version
    aggregations = [_aggregation(a) for a in getattr(spec, "aggregations", ())]
    if aggregations:
        extra["aggregations"] = aggregations
    return {**extra, **_udf(spec)}


def _aggregation(spec: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"column": spec.column, "function": spec.function}
    if spec.name:
        out["name"] = spec.name
    if spec.HasField("time_window"):
        out["time_window_seconds"] = spec.time_window.seconds
    if spec.HasField("slide_interval"):
        out["slide_interval_seconds"] = spec.slide_interval.seconds
    return out


def _udf(spec: Any) -> dict[str, Any]:
    """The transformation's name, mode and source text (never its pickled body)."""
    udf = None
    if spec.HasField("feature_transformation") and spec.feature_transformation.HasField(
        "user_defined_function"
    ):
        udf = spec.feature_transformation.user_defined_function
    elif hasattr(spec, "user_defined_function") and spec.HasField("user_defined_function"):
        udf = spec.user_defined_function
    if udf is None or not udf.name:
        return {}
    out = {"udf": udf.name}
    mode = getattr(udf, "mode", "") or getattr(spec, "mode", "")
    if mode:
        out["mode"] = mode
    if udf.body_text:
        out["udf_source"] = udf.body_text
    return out


def _consumers(services: Iterable[Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for service in services:
        for projection in service.features:
            found[projection.feature_view_name].append(service.name)
    return found


def _with_consumers(fs: FeatureSet, names: list[str]) -> FeatureSet:
    return replace(fs, consumers=tuple(sorted(set(names))))


def _service(spec: Any) -> dict[str, Any]:
    tags = _tags(spec.tags)
    out: dict[str, Any] = {
        "name": spec.name,
        "feature_views": [
            {
                "name": p.feature_view_name,
                "features": [f.name for f in p.feature_columns],
                **({"alias": p.feature_view_name_alias} if p.feature_view_name_alias else {}),
            }
            for p in spec.features
        ],
    }
    if spec.description:
        out["description"] = spec.description
    owner = _owner(spec.owner, tags)
    if owner:
        out["owner"] = owner
    if tags:
        out["tags"] = tags
    return out


def _store_consumers(project: _Project, sets: dict[str, FeatureSet], origin: str) -> tuple[Consumer, ...]:
    """The project's feature services and saved datasets as consumers."""
    out = []
    for spec in sorted(project.services, key=lambda s: s.name):
        tags = _tags(spec.tags)
        reads = [(p.feature_view_name, tuple(f.name for f in p.feature_columns)) for p in spec.features]
        out.append(
            Consumer(
                kind="feature-service",
                name=spec.name,
                owner=_owner(spec.owner, tags),
                description=spec.description,
                registered_at=f"feast:{project.name}",
                reads=_reads(project.name, reads, sets),
                tags=tags,
                origin=Origin(path=origin, pointer=f"feature_services/{spec.name}"),
            )
        )
    for spec in sorted(project.saved_datasets, key=lambda s: s.name):
        tags = _tags(spec.tags)
        by_view: dict[str, list[str]] = {}
        for reference in spec.features:
            view, _, feature = reference.rpartition(":")
            by_view.setdefault(view or reference, []).append(feature)
        storage = _storage(spec.storage)
        extra: dict[str, Any] = {"join_keys": list(spec.join_keys)}
        if storage:
            extra["storage"] = storage
        out.append(
            Consumer(
                kind="saved-dataset",
                name=spec.name,
                owner=tags.get("owner"),
                registered_at=storage or f"feast:{project.name}",
                reads=_reads(project.name, [(v, tuple(f)) for v, f in by_view.items()], sets),
                serves=(f"feature-service/{spec.feature_service_name}",) if spec.feature_service_name else (),
                tags=tags,
                extra=extra,
                origin=Origin(path=origin, pointer=f"saved_datasets/{spec.name}"),
            )
        )
    return tuple(out)


def _reads(
    project: str, reads: list[tuple[str, tuple[str, ...]]], sets: dict[str, FeatureSet]
) -> tuple[ConsumerRead, ...]:
    merged: dict[str, list[str]] = {}
    for view, names in reads:
        merged.setdefault(view, []).extend(names)
    out = []
    for view, features in merged.items():
        fs = sets.get(view)
        ref = fs.ref if fs is not None else FeatureSetRef(store_kind=KIND, store=project, name=view)
        out.append(ConsumerRead(feature_set=ref, features=tuple(dict.fromkeys(features))))
    return tuple(out)


def _storage(storage: Any) -> str | None:
    """Where a saved dataset's rows are kept: a file URI or a warehouse table."""
    if storage.HasField("file_storage") and storage.file_storage.uri:
        return str(storage.file_storage.uri)
    for name in ("bigquery_storage", "redshift_storage", "snowflake_storage"):
        if storage.HasField(name) and getattr(storage, name).table:
            return str(getattr(storage, name).table)
    return None


def _owner(owner: str, tags: dict[str, str]) -> str | None:
    return owner or tags.get("owner") or None


def _tags(entries: Any) -> dict[str, str]:
    return {e.key: e.value for e in sorted(entries, key=lambda e: e.key)}


def _unique(sources: list[SourceRef]) -> tuple[SourceRef, ...]:
    seen: dict[tuple[str, str], SourceRef] = {}
    for source in sources:
        seen.setdefault((source.kind, source.uri), source)
    return tuple(seen.values())

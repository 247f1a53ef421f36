"""Who reads the Unity Catalog feature tables: registered models and serving endpoints.

A model logged with the Feature Engineering client (``FeatureEngineeringClient.log_model``)
is registered with the tables and functions it was trained on, which Unity Catalog keeps as
the model version's ``model_version_dependencies`` ("Model version dependencies, for
feature-store packaged models": ``dependencies[].table.table_full_name``, ``.function
.function_full_name``, ``.connection.connection_name``; REST reference of the model version
object, https://docs.databricks.com/api/workspace/modelversions/list). So, per schema in
scope:

- ``GET /api/2.1/unity-catalog/models?catalog_name=C&schema_name=S`` lists the registered
  models (``registered_models``: ``full_name``, ``owner``, ``comment``...;
  https://docs.databricks.com/api/workspace/registeredmodels/list);
- ``GET /api/2.1/unity-catalog/models/{full_name}/versions`` lists each model's versions
  (``model_versions``, paginated by ``next_page_token``); every ``READY`` version depending
  on a table is a consumer of kind ``model`` reading those tables (all their features: the
  dependency names the table, not the columns).

Then ``GET /api/2.0/serving-endpoints`` (``endpoints[].config.served_entities[]`` with
``entity_name`` and ``entity_version``; https://docs.databricks.com/api/workspace/servingendpoints/list)
gives the endpoints serving those model versions: a consumer of kind ``serving-endpoint``
that ``serves`` the model and reads what it reads. An endpoint serving a feature spec
(``entity_name`` a function, no version) is counted (``endpoints_serving_feature_specs``):
which features a feature spec looks up is not in any documented REST payload.

A model belongs to the store of its own schema (created for it when that schema holds no
feature table); an endpoint to the store of the first model it serves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from featmesh.connector.errors import SourceError
from featmesh.connector.model import Consumer, ConsumerRead, FeatureSetRef, FeatureStore, Origin
from featmesh.connector.runreport import SourceReport

if TYPE_CHECKING:
    from featmesh.connector.sources.databricks.client import Client

KIND = "databricks"
MODELS = "/api/2.1/unity-catalog/models"
ENDPOINTS = "/api/2.0/serving-endpoints"
READY = "READY"


def read_consumers(
    client: Client,
    schemas: Sequence[tuple[str, str]],
    stores: list[FeatureStore],
    report: SourceReport,
) -> list[FeatureStore]:
    """``stores`` with the models of ``schemas`` that read tables, and their endpoints."""
    by_table = {str(fs.extra.get("full_name")): fs.ref for store in stores for fs in store.feature_sets}
    models: list[Consumer] = []
    for catalog, schema in schemas:
        models.extend(_models(client, catalog, schema, by_table, report))
    endpoints = _endpoints(client, models, report) if models else []
    by_store: dict[str, list[Consumer]] = {}
    for consumer in models:
        by_store.setdefault(consumer.name.rsplit(".", 1)[0], []).append(consumer)
    for endpoint in endpoints:
        served = endpoint.serves[0].split("/", 1)[1].split("@", 1)[0]
        by_store.setdefault(served.rsplit(".", 1)[0], []).append(endpoint)
    out = []
    for store in stores:
        found = by_store.pop(store.name, [])
        out.append(replace(store, consumers=(*store.consumers, *found)) if found else store)
    for name, consumers in sorted(by_store.items()):
        catalog, _, schema = name.partition(".")
        out.append(
            FeatureStore(
                kind=KIND,
                name=name,
                uri=f"{client.base_url}?catalog={catalog}&schema={schema}",
                consumers=tuple(consumers),
            )
        )
    return out


def _call(what: str, fn: Any) -> Any:
    """Run a listing; a refusal or failure stops the source (publishing without the
    consumers would delete the published ones), a missing API means none."""
    from featmesh.connector.sources.databricks.client import NotFound

    try:
        return list(fn())
    except NotFound:
        return []
    except SourceError as err:
        raise SourceError(
            f"{what} unavailable ({err}); the store is left as published "
            "(add models=false to the source to scan without models)"
        ) from None


def _models(
    client: Client,
    catalog: str,
    schema: str,
    by_table: Mapping[str, FeatureSetRef],
    report: SourceReport,
) -> list[Consumer]:
    listed = _call(
        f"the models of {catalog}.{schema}",
        lambda: client.pages(MODELS, "registered_models", {"catalog_name": catalog, "schema_name": schema}),
    )
    out = []
    for model in listed:
        full_name = str(model.get("full_name") or f"{catalog}.{schema}.{model.get('name')}")
        report.count("registered_models")
        versions = _call(
            f"the versions of model {full_name}",
            lambda name=full_name: client.pages(f"{MODELS}/{quote(name)}/versions", "model_versions"),
        )
        for version in versions:
            consumer = model_version_consumer(client.base_url, model, version, by_table)
            if consumer is not None:
                report.count("model_versions_reading_features")
                out.append(consumer)
    return out


def model_version_consumer(
    base_url: str,
    model: Mapping[str, Any],
    version: Mapping[str, Any],
    by_table: Mapping[str, FeatureSetRef],
) -> Consumer | None:
    """A ``READY`` model version depending on at least one table, as a consumer reading
    those tables (the feature set read here when the table is one, else a reference by
    ``catalog.schema`` and table name); None for any other version."""
    if version.get("status") not in (None, READY):
        return None
    full_name = str(model.get("full_name"))
    tables: list[str] = []
    functions: list[str] = []
    for dependency in (version.get("model_version_dependencies") or {}).get("dependencies") or []:
        if not isinstance(dependency, dict):
            continue
        table = (dependency.get("table") or {}).get("table_full_name")
        function = (dependency.get("function") or {}).get("function_full_name")
        if table:
            tables.append(str(table))
        if function:
            functions.append(str(function))
    if not tables:
        return None
    number = version.get("version")
    reads = tuple(ConsumerRead(feature_set=by_table.get(t) or _table_ref(t)) for t in dict.fromkeys(tables))
    extra = {k: version[k] for k in ("run_id", "source", "created_by", "created_at") if version.get(k)}
    if functions:
        extra["functions"] = list(dict.fromkeys(functions))
    return Consumer(
        kind="model",
        name=full_name,
        version=None if number is None else str(number),
        owner=model.get("owner") or version.get("created_by") or None,
        description=str(version.get("comment") or model.get("comment") or ""),
        registered_at=f"models:/{full_name}" + (f"/{number}" if number is not None else ""),
        reads=reads,
        extra=extra,
        origin=Origin(path=f"{base_url}{MODELS}/{full_name}/versions/{number}"),
    )


def _table_ref(full_name: str) -> FeatureSetRef:
    store, _, name = full_name.rpartition(".")
    return FeatureSetRef(store_kind=KIND, store=store, name=name)


def _endpoints(client: Client, models: Iterable[Consumer], report: SourceReport) -> list[Consumer]:
    by_version = {(m.name, m.version): m for m in models}
    body = _call("the serving endpoints", lambda: [client.get(ENDPOINTS)])
    listed = (body[0].get("endpoints") or []) if body else []
    out = []
    for endpoint in listed:
        if isinstance(endpoint, dict):
            consumer = endpoint_consumer(client.base_url, endpoint, by_version, report)
            if consumer is not None:
                out.append(consumer)
    return out


def endpoint_consumer(
    base_url: str,
    endpoint: Mapping[str, Any],
    models: Mapping[tuple[str, str | None], Consumer],
    report: SourceReport,
) -> Consumer | None:
    """An endpoint serving model versions read here, as a consumer that serves them and
    reads what they read; None when it serves none of them."""
    config = endpoint.get("config") or {}
    entities = config.get("served_entities") or config.get("served_models") or []
    served: list[Consumer] = []
    for entity in entities:
        if not isinstance(entity, dict):
            continue
        name = entity.get("entity_name") or entity.get("model_name")
        version = entity.get("entity_version") or entity.get("model_version")
        if name and not version:
            report.count("endpoints_serving_feature_specs")
            continue
        model = models.get((str(name), str(version)))
        if model is not None and model not in served:
            served.append(model)
    if not served:
        return None
    reads: dict[str, ConsumerRead] = {}
    for model in served:
        for read in model.reads:
            reads.setdefault(read.feature_set.qualified_name, read)
    name = str(endpoint.get("name"))
    report.count("serving_endpoints_reading_features")
    ready = (endpoint.get("state") or {}).get("ready")
    return Consumer(
        kind="serving-endpoint",
        name=name,
        owner=endpoint.get("creator") or None,
        description=str(endpoint.get("description") or ""),
        registered_at=f"{base_url}{ENDPOINTS}/{name}",
        reads=tuple(reads.values()),
        serves=tuple(m.key for m in served),
        extra={"state": ready} if ready else {},
        origin=Origin(path=f"{base_url}{ENDPOINTS}/{name}"),
    )

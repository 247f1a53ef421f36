"""Apache Atlas and Microsoft Purview (Data Map) as featmesh catalogs.

Both speak Atlas's v2 REST API; they differ in endpoint, authentication and search.

- ``atlas+https://HOST[:PORT][/PREFIX]`` (or ``atlas+http://``): ``{base}/api/atlas/v2``,
  basic auth from ``ATLAS_USERNAME`` / ``ATLAS_PASSWORD``.
- ``purview://ACCOUNT``: ``https://ACCOUNT.purview.azure.com/datamap/api/atlas/v2``
  (the current Data Map endpoint, not pyapacheatlas's legacy default), with an Entra
  token from azure-identity; ``purview+https://HOST[:PORT]`` names the Data Map host
  itself (a private endpoint, a sovereign cloud such as ``ACCOUNT.purview.azure.cn``),
  the token scope following the host's cloud (``connector.catalog.auth``).

Writes follow the plan: creates and updates in bulk batches (``batch_size``, default
100) in dependency order, entities of the same batch referenced by placeholder guids
and everything else by ``uniqueAttributes``; classifications of new entities travel
in the bulk payload, those of existing entities go through the classification
endpoints (a bulk write ignores them, and ``replaceClassifications`` would drop
classifications featmesh does not own). featmesh's business metadata (the ``featmesh``
group) rides in the bulk payload of new entities; on updates Purview merges it from the
bulk payload (``businessAttributeUpdateBehavior=merge``: a steward's other managed
attributes stay), while Atlas ignores it there, so it goes through
``POST /entity/guid/{guid}/businessmetadata?isOverwrite=false``. Deletes last, children first. A batch the
catalog refuses for its content is halved until the refused entities stand alone, so
one refused entity never blocks the others; a batch that still fails after retries is
recorded and the rest goes on; a re-run (or
``featmesh scan --resume``) finishes the job, since every write is idempotent.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from featmesh.connector import progress, redact
from featmesh.connector.catalog.base import ApplyResult
from featmesh.connector.catalog.contacts import OwnerDirectory, graph_root, lacks_contacts, merged_contacts
from featmesh.connector.catalog.local import LocalCatalog
from featmesh.connector.catalog.mirror import Mirror
from featmesh.connector.catalog.plan import (
    BUSINESS_FIELD,
    REFERRING_ENDS,
    Change,
    ClassificationChange,
    EntityJson,
    Key,
    Plan,
    owned,
)
from featmesh.connector.catalog.rest import AtlasRest, basic_auth_headers, unique_path
from featmesh.connector.errors import CatalogError, UsageError
from featmesh.connector.mapping.business import GROUP
from featmesh.connector.mapping.entities import (
    COLUMN,
    DATA_PRODUCT,
    ENTITY,
    FEATMESH_TYPES,
    FEATURE,
    FEATURE_SET,
    MODEL,
    PIPELINE,
    STORE,
)
from featmesh.connector.mapping.reverse import feature_sets_from_entities
from featmesh.connector.model import FeatureSet, parse_feature_set_qn, store_qn
from featmesh.connector.runreport import retired_classification
from featmesh.typedefs import SECTIONS, load_typedefs
from featmesh.typedefs.diff import refused_changes

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 100
HISTORY_PATH = Path(".featmesh/history.db")
CATEGORIES = SECTIONS
BUSINESS_OPTIONS = ("applicableEntityTypes", "maxStrLength")
"""The business attribute options featmesh sets (Purview adds others, such as isDisabled)."""
LOOKUP_CHUNK = 25
"""qualifiedNames per unique-attribute lookup (they travel in the query string)."""
DELETE_ORDER = (PIPELINE, MODEL, FEATURE, FEATURE_SET, ENTITY, STORE, COLUMN, DATA_PRODUCT)
PURVIEW_OPERATIONS_PER_SECOND = 25.0
"""Purview's Data Map meters 25 operations per second per capacity unit
(https://learn.microsoft.com/purview/concept-elastic-data-map); an account scales up to 10
units (250 a second) by default and 100 on request
(https://learn.microsoft.com/purview/how-to-manage-quotas), so one unit's rate is the pace
that never throttles; ``catalog.operations_per_second`` raises it."""
CURATOR_ROLE = "Data Curator"
PURVIEW_MAX_BATCH = 200
"""Entities per bulk call to Purview. Purview documents no largest bulk call; 200 is the size
reported to work, larger ones failing (a Microsoft Q&A thread,
https://learn.microsoft.com/answers/questions/5922338), and reads by guid fail above 193
guids (https://github.com/Azure/azure-sdk-for-python/issues/39935; featmesh reads 50)."""
MAX_ENTITY_BYTES = 2 * 1024 * 1024
"""Purview's documented maximum size of an asset (https://learn.microsoft.com/purview/how-to-manage-quotas:
"Maximum size of an asset in a catalog: 2 MB")."""
REFUSED_404_CODES = ("ATLAS-404-00-007", "ATLAS-404-00-00A")
_UNKNOWN = object()
"""A type the catalog does not define (its schema option cannot be read)."""
"""404 answers Atlas gives for a payload it refuses (see :func:`_refused`)."""


def open_atlas(uri: str, *, read_only: bool = False, **options: Any) -> AtlasCatalog:
    """``atlas+https://HOST[:PORT][/PREFIX]`` or ``atlas+http://...``."""
    scheme, _, rest = uri.partition("+")
    parts = urlsplit(rest)
    if scheme != "atlas" or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"catalog '{uri}': expected atlas+https://HOST[:PORT] or atlas+http://HOST[:PORT]")
    if parts.username or parts.password:
        raise UsageError(
            "catalog URI must not hold credentials: set ATLAS_USERNAME and ATLAS_PASSWORD in the environment"
        )
    from featmesh.connector.catalog.auth import atlas_credentials

    host = parts.netloc
    endpoint = f"{parts.scheme}://{host}{parts.path.rstrip('/')}/api/atlas/v2"
    user, password = atlas_credentials(host)
    headers = basic_auth_headers(user, password)
    rest_client = AtlasRest(endpoint, headers, deadline=options.pop("timeout", None))
    return AtlasCatalog(uri, rest_client, flavour="atlas", read_only=read_only, **options)


def open_purview(uri: str, *, read_only: bool = False, **options: Any) -> AtlasCatalog:
    """``purview://ACCOUNT`` or an explicit Data Map endpoint ``purview+https://HOST[:PORT]``
    (private endpoints, sovereign clouds, any Data Map-compatible server;
    ``purview+http://`` only for a loopback host)."""
    from featmesh.connector.catalog.auth import TokenAuthentication, azure_credential, purview_scope

    endpoint = purview_endpoint(uri)
    host = urlsplit(endpoint).netloc
    credential = options.pop("credential", None) or azure_credential()
    auth = TokenAuthentication(credential, scope=purview_scope(host))
    rest_client = AtlasRest(endpoint, auth.get_authentication_headers, deadline=options.pop("timeout", None))
    directory = owner_directory(
        credential, host, options.pop("owners", None), options.pop("owner_lookup", "graph")
    )
    return AtlasCatalog(
        uri, rest_client, flavour="purview", read_only=read_only, directory=directory, **options
    )


LOOPBACK = ("localhost", "127.0.0.1", "::1")


def purview_endpoint(uri: str) -> str:
    """The Atlas v2 base of a Purview catalog URI: ``purview://ACCOUNT`` is
    ``https://ACCOUNT.purview.azure.com/datamap/api/atlas/v2``; ``purview+https://HOST[:PORT][/PREFIX]``
    is ``https://HOST[:PORT][/PREFIX]/datamap/api/atlas/v2``."""
    scheme, _, rest = uri.partition("://")
    if scheme == "purview":
        account = rest.strip("/")
        if not account or "/" in account or "." in account or "@" in account or ":" in account:
            raise UsageError(
                f"catalog '{uri}': expected purview://ACCOUNT (the Purview account name) "
                "or purview+https://HOST[:PORT] (the Data Map endpoint)"
            )
        return f"https://{account}.purview.azure.com/datamap/api/atlas/v2"
    parts = urlsplit(uri.partition("+")[2])
    try:
        port = parts.port
    except ValueError:
        port = -1
    malformed = port == -1 or bool(parts.query or parts.fragment)
    if parts.scheme not in ("http", "https") or not parts.hostname or malformed:
        raise UsageError(f"catalog '{uri}': expected purview+https://HOST[:PORT] (the Data Map endpoint)")
    if parts.username or parts.password:
        raise UsageError(
            "catalog URI must not hold credentials: Purview tokens come from azure-identity "
            "(AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, or a managed identity)"
        )
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise UsageError(
            f"catalog '{uri}': a bearer token is only sent over plain http to a loopback host; "
            "use purview+https://"
        )
    prefix = parts.path.rstrip("/")
    if prefix.endswith("/datamap/api/atlas/v2"):
        prefix = prefix[: -len("/datamap/api/atlas/v2")]
    return f"{parts.scheme}://{parts.netloc}{prefix}/datamap/api/atlas/v2"


class AtlasCatalog:
    transactional = False
    reads_scopes_whole = False

    def __init__(
        self,
        uri: str,
        rest: AtlasRest,
        *,
        flavour: str,
        read_only: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        history: Path | None = None,
        collections: Mapping[str, str] | None = None,
        default_collection: str | None = None,
        operations_per_second: float | None = None,
        directory: OwnerDirectory | None = None,
        owners: Mapping[str, str] | None = None,
        owner_lookup: str | None = None,
        verify: bool = False,
    ):
        """``directory`` (Purview) resolves owners to the contacts written with each
        entity; ``owners`` / ``owner_lookup`` are its settings, unused by Atlas, which
        keeps only the readable ``owner`` attribute."""
        if batch_size < 1:
            raise UsageError("batch size must be at least 1")
        if flavour != "purview" and (collections or default_collection):
            raise UsageError(f"catalog '{uri}': collections are a Purview setting (catalog.collections)")
        if flavour == "purview" and batch_size > PURVIEW_MAX_BATCH:
            log.info("Purview takes at most %d entities a bulk call: batch size lowered", PURVIEW_MAX_BATCH)
            batch_size = PURVIEW_MAX_BATCH
        self.collections = dict(collections or {})
        """domain -> Purview collection id; ``default_collection`` for the rest."""
        self.default_collection = default_collection
        if operations_per_second is not None:
            rest.pace(operations_per_second)
        elif flavour == "purview":
            rest.pace(PURVIEW_OPERATIONS_PER_SECOND)
        self.directory = directory if flavour == "purview" else None
        self.uri = uri
        self.rest = rest
        self.flavour = flavour
        self.read_only = read_only
        self.batch_size = batch_size
        self._history_path = history or HISTORY_PATH
        self._history: LocalCatalog | None = None
        self._exists: dict[Key, bool] = {}
        self._type_names: set[str] | None = None
        self._schemas: dict[Key, frozenset[str] | None] = {}
        self._schema_options: dict[str, Any] = {}
        self.verify = verify
        """Read the whole catalog, trusting nothing recorded (``scan --verify``)."""
        self._trusted: set[Key] = set()
        """Keys the last :meth:`current` answered from the mirror (held or tombstoned)."""
        self._recorded: set[Key] = set()
        """Of those, the ones the mirror says the catalog holds."""
        self._looked_up: set[Key] = set()
        """Keys read from the catalog itself in this run."""
        self._seen: dict[Key, EntityJson] = {}
        """What those reads found."""
        self._full_scopes: list[str] = []
        """Stores read in full by the last :meth:`current`: the mirror is rebuilt for them."""
        self._unsure: set[Key] = set()
        """Keys whose classification, retirement or delete failed in the last apply."""
        self._sent: dict[Key, dict[str, Any]] = {}
        """Per written entity, what the payload carried beside the plan (contacts, collection)."""

    def _has_type(self, type_name: str) -> bool:
        """Whether the catalog defines the type (a lookup of an unknown type is an error
        in Atlas, not an empty answer). The headers are read once per catalog object."""
        if self._type_names is None:
            headers = self.rest.request("GET", "/types/typedefs/headers") or []
            self._type_names = {str(h["name"]) for h in headers if isinstance(h, dict) and h.get("name")}
        return type_name in self._type_names

    # ------------------------------------------------------------------ typedefs

    def sync_typedefs(self, *, dry_run: bool = False) -> dict[str, list[str]]:
        """Create missing featmesh types, update changed ones with their full attribute
        lists. Changes Atlas refuses stop the sync before anything is sent."""
        ours = load_typedefs()
        existing = self.rest.request("GET", "/types/typedefs") or {}
        have = {t["name"]: (cat, t) for cat in CATEGORIES for t in existing.get(cat) or []}
        create: dict[str, list[dict[str, Any]]] = {c: [] for c in CATEGORIES}
        update: dict[str, list[dict[str, Any]]] = {c: [] for c in CATEGORIES}
        old: dict[str, list[dict[str, Any]]] = {c: [] for c in CATEGORIES}
        for category in CATEGORIES:
            for typedef in ours.get(category, []):
                found = have.get(typedef["name"])
                if found is None:
                    create[category].append(typedef)
                elif _typedef_shape(found[1]) != _typedef_shape(typedef):
                    update[category].append(typedef)
                    old[category].append(found[1])
        refused = refused_changes(old, update) if any(update.values()) else []
        if refused:
            raise CatalogError(
                f"{self.uri}: the catalog's featmesh types cannot be updated in place, nothing was sent: "
                + "; ".join(refused)
            )
        names = {
            "create": [t["name"] for c in CATEGORIES for t in create[c]],
            "update": [t["name"] for c in CATEGORIES for t in update[c]],
        }
        if dry_run or self.read_only:
            return names
        self._type_names = None
        if names["create"]:
            self.rest.request("POST", "/types/typedefs", body={c: v for c, v in create.items() if v})
        if names["update"]:
            self.rest.request("PUT", "/types/typedefs", body={c: v for c, v in update.items() if v})
        return names

    # ------------------------------------------------------------------ reading

    def fill(self, current: Mapping[Key, EntityJson]) -> None:
        """Nothing to do: :meth:`current` reads each entity whole."""

    def generation(self) -> str | None:
        """None: others write to Atlas and Purview, so every scan plans every set it reads."""
        return None

    def exists(self, type_name: str, qualified_name: str) -> bool:
        key = (type_name, qualified_name)
        if key not in self._exists and not self._has_type(type_name):
            self._exists[key] = False
        if key not in self._exists:
            data = self.rest.request(
                "GET",
                f"/entity/uniqueAttribute/type/{quote(type_name, safe='')}",
                params={
                    "attr:qualifiedName": qualified_name,
                    "minExtInfo": "true",
                    "ignoreRelationships": "true",
                },
                allow=(404,),
            )
            entity = data.get("entity") if isinstance(data, dict) else None
            self._exists[key] = isinstance(entity, dict) and entity.get("status", "ACTIVE") == "ACTIVE"
        return self._exists[key]

    def columns(self, type_name: str, qualified_name: str) -> frozenset[str] | None:
        """The schema Purview (or Atlas) shows for an entity: the names (``displayText``) of
        the elements its type's ``options.schemaElementsAttribute`` names, following an
        element that is itself a schema holder (a schema object holding columns) once.
        Two reads per entity and one per type; None when featmesh cannot tell."""
        key = (type_name, qualified_name)
        if key not in self._schemas:
            self._schemas[key] = self._read_columns(type_name, qualified_name)
        return self._schemas[key]

    def _read_columns(self, type_name: str, qualified_name: str) -> frozenset[str] | None:
        attribute = self._schema_attribute(type_name)
        if attribute is _UNKNOWN:
            return None
        if not attribute:
            return frozenset()
        data = self.rest.request(
            "GET",
            f"/entity/uniqueAttribute/type/{quote(type_name, safe='')}",
            params={"attr:qualifiedName": qualified_name},
            allow=(404,),
        )
        entity = data.get("entity") if isinstance(data, dict) else None
        if not isinstance(entity, dict):
            return None
        names: set[str] = set()
        for item in _as_list((entity.get("relationshipAttributes") or {}).get(attribute)):
            if not _active_link(item):
                continue
            nested = self._schema_attribute(str(item.get("typeName")))
            if isinstance(nested, str) and nested and isinstance(item.get("guid"), str):
                held = self.rest.request("GET", f"/entity/guid/{quote(item['guid'], safe='')}", allow=(404,))
                inner = held.get("entity") if isinstance(held, dict) else None
                items = _as_list(((inner or {}).get("relationshipAttributes") or {}).get(nested))
            else:
                items = [item]
            for element in items:
                if not _active_link(element):
                    continue
                if not element.get("displayText"):
                    return None
                names.add(str(element["displayText"]))
        return frozenset(names)

    def _schema_attribute(self, type_name: str) -> Any:
        """The type's ``options.schemaElementsAttribute``, None when it has none, and
        ``_UNKNOWN`` when the catalog does not know the type."""
        if type_name not in self._schema_options:
            found = self.rest.request(
                "GET", f"/types/entitydef/name/{quote(type_name, safe='')}", allow=(404,)
            )
            if not isinstance(found, dict) or "_status" in found:
                self._schema_options[type_name] = _UNKNOWN
            else:
                self._schema_options[type_name] = (found.get("options") or {}).get("schemaElementsAttribute")
        return self._schema_options[type_name]

    @property
    def mirror(self) -> Mirror:
        """What featmesh last wrote to this catalog, kept in the run history."""
        return Mirror(self.history.db, self.uri, writable=not self.read_only)

    def _trusting(self, scopes: Sequence[str]) -> bool:
        """Whether this run may answer from the mirror: not asked to verify, the catalog
        still defines featmesh's types (a new or wiped catalog does not), and every
        store of the run was read in full once."""
        return not self.verify and self._has_type(FEATURE_SET) and self.mirror.trusted(scopes)

    def current(self, keys: Iterable[Key], scopes: Iterable[str]) -> dict[Key, EntityJson]:
        """What the catalog holds for ``keys``, and every featmesh entity reachable
        from the stores named in ``scopes`` (their feature sets, features, entities
        and pipelines), normalised for the plan.

        When the mirror is trusted (:meth:`_trusting`), what it recorded answers, and only
        the keys it knows nothing of are looked up; :meth:`confirm` reads again those a
        plan would write. Otherwise (first run from this history, ``--verify``, after a
        disagreement) everything is read, and the apply records it."""
        keys, scope_list = list(keys), list(scopes)
        self._trusted, self._recorded = set(), set()
        self._full_scopes = []
        if self._trusting(scope_list):
            found, absent = self.mirror.entries(keys, scope_list)
            unknown = [k for k in dict.fromkeys(keys) if k not in found and k not in absent]
            fresh = self._lookup(unknown) if unknown else {}
            self._recorded = set(found)
            self._trusted = set(found) | absent
            self._looked_up, self._seen = set(unknown), dict(fresh)
            return {**found, **fresh}
        self._full_scopes = scope_list
        held = self._read_all(keys, scope_list)
        self._looked_up, self._seen = set(keys), dict(held)
        return held

    def confirm(self, plan: Plan) -> dict[Key, EntityJson | None] | None:
        """What the catalog really holds for the entities a plan would write (or move, or
        give contacts) that :meth:`current` answered from the mirror: {} when there are
        none. None when the catalog lacks one the mirror says it holds: the mirror is
        dropped, and the caller reads everything again with :meth:`current`."""
        if not self._trusted:
            return {}
        touched = {c.key for c in plan.changes if c.action != "unchanged"}
        touched |= {c.key for c in plan.classifications}
        touched |= {c.key for c in self._contacts_behind(plan)}
        target = self._collections_of(plan)
        touched |= {
            c.key
            for c in plan.changes
            if c.action == "unchanged"
            and target.get(c.key)
            and (c.current or {}).get("collectionId") != target.get(c.key)
        }
        keys = sorted(touched & self._trusted)
        if not keys:
            return {}
        fresh = self._lookup(keys)
        if any(k in self._recorded and k not in fresh for k in keys):
            log.warning(
                "%s does not hold an entity featmesh recorded writing: reading it all again", self.uri
            )
            self.mirror.distrust()
            self.verify = True
            return None
        self._trusted -= set(keys)
        self._recorded -= set(keys)
        self._looked_up |= set(keys)
        self._seen.update(fresh)
        return {k: fresh.get(k) for k in keys}

    def _lookup(self, keys: Sequence[Key]) -> dict[Key, EntityJson]:
        """The entities the catalog holds for ``keys``, by unique-attribute lookups alone."""
        raw: dict[str, dict[str, Any]] = {}
        names: dict[str, tuple[str, str]] = {}
        by_type: dict[str, list[str]] = {}
        for type_name, qn in keys:
            by_type.setdefault(type_name, []).append(qn)
        self._fetch(by_type, raw, names)
        return _active(raw, names)

    def _fetch(
        self,
        by_type: Mapping[str, Sequence[str]],
        raw: dict[str, dict[str, Any]],
        names: dict[str, tuple[str, str]],
    ) -> None:
        """Unique-attribute lookups of the qualifiedNames of each type, in chunks, into ``raw``."""
        for type_name, qns in by_type.items():
            if not self._has_type(type_name):
                continue
            for chunk in _chunks(sorted(set(qns)), LOOKUP_CHUNK):
                params = [(f"attr_{i}:qualifiedName", qn) for i, qn in enumerate(chunk)]
                data = self.rest.request("GET", unique_path(type_name), params=params, allow=(404,))
                self._collect(data, raw, names)

    def _read_all(self, keys: Sequence[Key], scope_list: Sequence[str]) -> dict[Key, EntityJson]:
        raw: dict[str, dict[str, Any]] = {}
        names: dict[str, tuple[str, str]] = {}
        by_type: dict[str, list[str]] = {}
        scope_list = list(scope_list)
        for type_name, qn in keys:
            by_type.setdefault(type_name, []).append(qn)
        for type_name in by_type:
            if type_name == STORE:
                by_type[type_name] = sorted(set(by_type[type_name]) | set(scope_list))
        if scope_list and STORE not in by_type:
            by_type[STORE] = scope_list
        self._fetch(by_type, raw, names)
        # follow the stores' compositions to what they hold, then the sets' to theirs
        for follow in (("featureSets", "entities"), ("features", "outputFromProcesses")):
            wanted = []
            for entity in list(raw.values()):
                qn = entity["attributes"].get("qualifiedName", "")
                if not any(qn == s or qn.startswith(s + "/") for s in scope_list):
                    continue
                for name in follow:
                    for item in _as_list(entity.get("relationshipAttributes", {}).get(name)):
                        if item.get("guid") and item["guid"] not in raw and _active_link(item):
                            wanted.append(item["guid"])
            for chunk in _chunks(sorted(set(wanted)), LOOKUP_CHUNK * 2):
                data = self.rest.request("GET", "/entity/bulk", params=[("guid", g) for g in chunk])
                self._collect(data, raw, names)
        return _active(raw, names)

    @staticmethod
    def _collect(data: Any, raw: dict[str, dict[str, Any]], names: dict[str, tuple[str, str]]) -> None:
        if not isinstance(data, dict):
            return
        entities = list(data.get("entities") or [])
        if data.get("entity"):
            entities.append(data["entity"])
        for entity in entities:
            raw[entity["guid"]] = entity
        for entity in [*entities, *(data.get("referredEntities") or {}).values()]:
            qn = (entity.get("attributes") or {}).get("qualifiedName")
            if entity.get("guid") and qn:
                names[entity["guid"]] = (entity["typeName"], qn)

    def feature_set_versions(self, store_kind: str, store: str, name: str) -> list[str | None]:
        scope = store_qn(store_kind, store)
        if self._trusting([scope]):
            return self.mirror.versions(scope, name)
        held = self._read_all([(STORE, scope)], [scope])
        versions: list[str | None] = []
        for type_name, qn in held:
            ref = parse_feature_set_qn(qn) if type_name == FEATURE_SET else None
            if ref is not None and ref.name == name:
                versions.append(ref.version)
        return versions

    def export(self) -> list[EntityJson]:
        """Every featmesh entity the catalog holds (found by search, read in bulk).

        On Purview the search is the discovery index, which trails the Data Map: entities
        written in the last minutes may be missing from an export. Plans never come from
        here: what to create, update or delete is decided from unique-attribute lookups
        and guid reads of the Data Map itself (:meth:`current`)."""
        guids: list[str] = []
        for type_name in FEATMESH_TYPES:
            if self._has_type(type_name):
                guids.extend(self._search_guids(type_name))
        raw: dict[str, dict[str, Any]] = {}
        names: dict[str, tuple[str, str]] = {}
        for chunk in _chunks(sorted(set(guids)), LOOKUP_CHUNK * 2):
            self._collect(
                self.rest.request("GET", "/entity/bulk", params=[("guid", g) for g in chunk]), raw, names
            )
        entities = [
            _normalise(e, names, keep_all=True) for e in raw.values() if e.get("status", "ACTIVE") == "ACTIVE"
        ]
        return sorted(entities, key=lambda e: (e["typeName"], e["attributes"]["qualifiedName"]))

    def published_models(self) -> list[EntityJson]:
        """The model entities (found by search, read in bulk): O(models), not O(mesh)."""
        if not self._has_type(MODEL):
            return []
        raw: dict[str, dict[str, Any]] = {}
        names: dict[str, tuple[str, str]] = {}
        for chunk in _chunks(sorted(set(self._search_guids(MODEL))), LOOKUP_CHUNK * 2):
            self._collect(
                self.rest.request("GET", "/entity/bulk", params=[("guid", g) for g in chunk]), raw, names
            )
        entities = [
            _normalise(e, names, keep_all=True)
            for e in raw.values()
            if e.get("status", "ACTIVE") == "ACTIVE" and e.get("typeName") == MODEL
        ]
        return sorted(entities, key=lambda e: e["attributes"]["qualifiedName"])

    def _search_guids(self, type_name: str) -> Iterator[str]:
        if self.flavour == "purview":
            yield from self._purview_search(type_name)
            return
        offset, limit = 0, 500
        while True:
            body = {
                "typeName": type_name,
                "excludeDeletedEntities": True,
                "includeSubTypes": False,
                "limit": limit,
                "offset": offset,
            }
            data = self.rest.request("POST", "/search/basic", body=body) or {}
            found = [e["guid"] for e in data.get("entities") or []]
            yield from found
            if len(found) < limit:
                return
            offset += limit

    def _purview_search(self, type_name: str) -> Iterator[str]:
        """Purview's discovery query, on the Data Map host beside the Atlas API."""
        base = self.rest.endpoint.rsplit("/atlas/v2", 1)[0]
        token: str | None = None
        while True:
            body: dict[str, Any] = {"keywords": None, "limit": 1000, "filter": {"entityType": type_name}}
            if token:
                body["continuationToken"] = token
            saved = self.rest.endpoint
            self.rest.endpoint = base
            try:
                data = self.rest.request("POST", "/search/query?api-version=2023-09-01", body=body) or {}
            finally:
                self.rest.endpoint = saved
            yield from (item["id"] for item in data.get("value") or [])
            token = data.get("continuationToken")
            if not token:
                return

    def published_feature_sets(self, *, exclude_stores: Iterable[tuple[str, str]] = ()) -> list[FeatureSet]:
        """The published sets, from the mirror's index; from a full export (which rebuilds
        the index) the first time, or with ``--verify``."""
        skip = set(exclude_stores)
        if not self.verify and self._has_type(FEATURE_SET):
            indexed = self.mirror.published(skip)
            if indexed is not None:
                return indexed
        entities = self.export()
        self.mirror.rebuild_index(entities)
        return [
            fs
            for fs in feature_sets_from_entities(
                [e for e in entities if e["typeName"] == FEATURE_SET],
                [e for e in entities if e["typeName"] == FEATURE],
            )
            if (fs.store_kind, fs.store) not in skip
        ]

    # ------------------------------------------------------------------ writing

    def apply(self, plan: Plan, *, run_id: str) -> ApplyResult:
        result = ApplyResult()
        if self.read_only:
            raise CatalogError(f"{self.uri} is open read-only")
        guids: dict[Key, str] = {c.key: c.current["guid"] for c in plan.changes if c.current}
        failed: set[Key] = set()
        self._sent, self._unsure = {}, set()
        carried = self._write_entities(plan, guids, failed, result)
        self._write_business(plan, guids, failed, result)
        self._write_classifications(plan, guids, failed, carried, result)
        self._delete(plan, guids, result, run_id)
        if self.directory is not None:
            result.warnings.extend(self.directory.warnings())
        self._remember(plan, guids, failed, run_id)
        result.requests = self.rest.log.total
        return result

    def _remember(self, plan: Plan, guids: Mapping[Key, str], failed: set[Key], run_id: str) -> None:
        """Record in the mirror what the catalog holds after ``plan``: what was written,
        seen or deleted; entities whose write failed are forgotten (looked up next run)."""
        failed = failed | self._unsure
        held: dict[Key, EntityJson | None] = {}
        changes: dict[Key, list[Any]] = {}
        for classification in plan.classifications:
            changes.setdefault(classification.key, []).append(classification)
        for change in plan.changes:
            key = change.key
            if key in failed:
                continue
            if change.action == "delete":
                held[key] = None
                continue
            if change.action in ("create", "update") and change.desired is not None:
                guid = guids.get(key)
                if not guid or guid.startswith("-"):
                    failed.add(key)
                    continue
                entity: EntityJson = {**change.desired, "guid": guid, **self._sent.get(key, {})}
                before = [] if change.current is None else change.current.get("classifications", [])
                entity["classifications"] = copy.deepcopy(before)
            elif change.current is not None:
                if key in self._recorded and key not in changes and change.action == "unchanged":
                    continue  # recorded as it is
                entity = copy.deepcopy(change.current)
                entity.setdefault("classifications", [])
            else:
                continue
            if change.action == "retire":
                entity["classifications"].append(retired_classification(run_id))
            entity["classifications"] = _classified(entity["classifications"], changes.get(key, []))
            if not entity["classifications"]:
                entity.pop("classifications")
            held[key] = entity
        planned = {c.key for c in plan.changes}
        for key in (self._looked_up | set(self._seen)) - planned - failed:
            held[key] = copy.deepcopy(self._seen.get(key))  # read, not planned: as read (None: known absent)
        for kept in held.values():
            for end in REFERRING_ENDS:  # kept by the catalog as processes change: never trusted
                (kept or {}).get("relationshipAttributes", {}).pop(end, None)
        self.mirror.forget(failed)
        self.mirror.record(held, synced=[] if failed else self._full_scopes)

    def _write_entities(
        self, plan: Plan, guids: dict[Key, str], failed: set[Key], result: ApplyResult
    ) -> set[Key]:
        """Bulk create-or-update; returns the keys whose classifications rode along."""
        writes = [
            c
            for c in plan.changes
            if c.action in ("create", "update") and c.desired is not None and not self._business_only(c)
        ]
        writes += self._contacts_behind(plan)
        placeholder = itertools.count(1000)
        carried: set[Key] = set()
        target = self._collections_of(plan)
        self._move_unchanged(plan, target, guids, result)
        batches = list(self._batches(writes, target))
        bar = progress.meter(f"writing {len(writes)} entities to {self.uri}", len(batches), "batches")
        with bar:
            for number, (collection, batch) in enumerate(batches, start=1):
                oversize = [
                    c for c in batch if c.desired is not None and _json_size(c.desired) > MAX_ENTITY_BYTES
                ]
                for change in oversize:
                    failed.add(change.key)
                    result.failed.append(
                        f"{change.key[1]}: {_json_size(change.desired or {}):,} bytes, over the catalog's "
                        f"{MAX_ENTITY_BYTES:,} bytes an entity; not sent"
                    )
                batch = self._without_orphans(
                    [c for c in batch if c.key not in failed], guids, failed, result
                )
                if batch:
                    self._send(batch, collection, number, guids, failed, carried, result, placeholder)
                bar.advance()
        progress.done()
        return carried

    def _business_only(self, change: Change) -> bool:
        """An Atlas update that changes only featmesh's business metadata: Atlas's bulk write
        would ignore it, so it is written by :meth:`_write_business` alone."""
        return self.flavour != "purview" and change.action == "update" and change.fields == (BUSINESS_FIELD,)

    def _write_business(
        self, plan: Plan, guids: Mapping[Key, str], failed: set[Key], result: ApplyResult
    ) -> None:
        """Atlas: featmesh's business metadata of the entities an update changes it on, one
        ``POST /entity/guid/{guid}/businessmetadata?isOverwrite=false`` each (only the
        ``featmesh`` group's attributes change; a steward's groups stay)."""
        if self.flavour == "purview":
            return
        for change in plan.of("update"):
            if change.key in failed or BUSINESS_FIELD not in change.fields or change.desired is None:
                continue
            values = _business_values(change.desired, change.current or {})
            path = f"/entity/guid/{guids[change.key]}/businessmetadata"
            try:
                self.rest.request("POST", path, params={"isOverwrite": "false"}, body=values)
            except CatalogError as err:
                failed.add(change.key)
                result.failed.append(f"business metadata {GROUP} on {change.key[1]}: {err}")
                continue
            if self._business_only(change):
                result.updated += 1

    def _send(
        self,
        batch: Sequence[Change],
        collection: str | None,
        number: int,
        guids: dict[Key, str],
        failed: set[Key],
        carried: set[Key],
        result: ApplyResult,
        placeholder: Iterator[int],
    ) -> None:
        """One bulk write. A batch the catalog refuses for its content (:func:`_refused`) is
        halved and each half sent on its own until the refused entities stand alone: they
        are reported one by one, the rest is written, and entities referring to a refused
        one are reported as such instead of sent (:meth:`_without_orphans`). Each refused
        entity costs at most two requests per halving, so about 2 log2(batch size)."""
        local: dict[Key, str] = {}
        for change in batch:
            local[change.key] = guids[change.key] if change.action == "update" else f"-{next(placeholder)}"
        payload = [self._payload_entity(change, local) for change in batch]
        params: dict[str, str] = {"collectionId": collection} if collection else {}
        if self.flavour == "purview" and any("businessAttributes" in e for e in payload):
            params["businessAttributeUpdateBehavior"] = "merge"
        try:
            body = {"entities": payload}
            response = self.rest.request("POST", "/entity/bulk", params=params or None, body=body) or {}
        except CatalogError as err:
            if _refused(err) and len(batch) > 1:
                middle = len(batch) // 2
                self._send(batch[:middle], collection, number, guids, failed, carried, result, placeholder)
                rest = self._without_orphans(batch[middle:], guids, failed, result)
                if rest:
                    self._send(rest, collection, number, guids, failed, carried, result, placeholder)
                return
            keys = [c.key for c in batch]
            failed.update(keys)
            if _refused(err):
                reason = str(err).removeprefix("POST /entity/bulk: ")
                result.failed.append(f"{keys[0][0]} {keys[0][1]}: the catalog refused it: {reason}")
                return
            where = f", collection '{collection}'" if collection else ""
            result.failed.append(
                f"entity batch {number} ({len(batch)} entities from {keys[0][1]}{where}): {err}"
                + _forbidden_hint(err, collection)
            )
            return
        assigned = response.get("guidAssignments") or {}
        for change, sent in zip(batch, payload, strict=True):
            extra = {"contacts": sent["contacts"]} if sent.get("contacts") else {}
            self._sent[change.key] = extra | ({"collectionId": collection} if collection else {})
            if change.action == "create":
                real = assigned.get(local[change.key])
                if real:
                    guids[change.key] = real
                result.created += 1
                if change.desired and change.desired.get("classifications"):
                    carried.add(change.key)
            else:
                result.updated += 1

    def _payload_entity(self, change: Change, local: Mapping[Key, str]) -> dict[str, Any]:
        assert change.desired is not None
        entity = _with_guid_refs(change.desired, local)
        entity["guid"] = local[change.key]
        if change.action == "update":
            _clear_removed(entity, change.fields, change.current or {})
        if self.directory is not None:
            held = (change.current or {}).get("contacts")
            contacts = merged_contacts(self.directory.contacts(entity["attributes"]), held)
            if contacts:
                entity["contacts"] = contacts
        if change.action == "create" and entity.get("classifications"):
            entity["classifications"] = [c for c in entity["classifications"] if owned(c["typeName"])]
        else:
            entity.pop("classifications", None)
        if change.action == "update" and "businessAttributes" in entity:
            if self.flavour == "purview" and BUSINESS_FIELD in change.fields:
                entity["businessAttributes"] = _business_values(change.desired, change.current or {})
            else:
                entity.pop("businessAttributes")
        return entity

    @staticmethod
    def _without_orphans(
        batch: Sequence[Change], guids: Mapping[Key, str], failed: set[Key], result: ApplyResult
    ) -> list[Change]:
        """``batch`` less the entities referring to one that is not in the catalog because its
        own write failed (a feature of a refused feature set, its pipeline): each is reported,
        naming the entity it waits for, rather than sent to be answered with a 404."""
        kept = []
        for change in batch:
            missing = next(
                (ref for ref in _references(change.desired or {}) if ref in failed and ref not in guids), None
            )
            if missing is None:
                kept.append(change)
                continue
            failed.add(change.key)
            result.failed.append(
                f"{change.key[0]} {change.key[1]}: not written: it refers to {missing[0]} {missing[1]}, "
                "which was not written"
            )
        return kept

    def _contacts_behind(self, plan: Plan) -> list[Change]:
        """Unchanged entities whose resolved owners or experts Purview does not show yet
        (an owner mapped or created in Entra ID since): rewritten as updates."""
        if self.directory is None:
            return []
        behind = []
        for change in plan.of("unchanged"):
            if change.desired is None or change.current is None:
                continue
            wanted = self.directory.contacts(change.desired["attributes"])
            if lacks_contacts(change.current.get("contacts"), wanted):
                behind.append(dataclasses.replace(change, action="update", fields=()))
        return behind

    def _collections_of(self, plan: Plan) -> dict[Key, str | None]:
        """The Purview collection each desired entity belongs in: its domain's (a feature
        set's or a store's ``domain``), the one of the set it belongs to (features,
        pipelines) or of its store (entities), else the default. None: no collection
        configured, Purview's root."""
        if not (self.collections or self.default_collection):
            return {}
        desired = {c.key: c.desired for c in plan.changes if c.desired is not None}

        def by_domain(entity: Mapping[str, Any] | None) -> str | None:
            domain = (entity or {}).get("attributes", {}).get("domain")
            return self.collections.get(domain, self.default_collection) if domain else None

        def parent(entity: Mapping[str, Any], names: tuple[str, ...]) -> Key | None:
            for name in names:
                relations = entity.get("relationshipAttributes") or {}
                refs = relations.get(name) or entity["attributes"].get(name)
                for ref in refs if isinstance(refs, list) else [refs]:
                    if isinstance(ref, dict) and "uniqueAttributes" in ref:
                        return (ref["typeName"], ref["uniqueAttributes"]["qualifiedName"])
            return None

        out: dict[Key, str | None] = {}
        for key, entity in desired.items():
            found = by_domain(entity)
            if found is None and key[0] in (FEATURE, PIPELINE, ENTITY):
                up = parent(entity, ("featureSet", "outputs", "store"))
                found = by_domain(desired.get(up)) if up else None
            out[key] = found or self.default_collection
        return out

    def _batches(
        self, writes: Sequence[Any], target: Mapping[Key, str | None]
    ) -> Iterator[tuple[str | None, Sequence[Any]]]:
        """Bulk batches of one collection each (Purview takes one ``collectionId`` per
        call): runs of consecutive writes bound for the same collection, cut at the batch
        size, so the plan's dependency order holds across collections."""
        run: list[Any] = []
        current: str | None = None
        for change in writes:
            collection = target.get(change.key)
            if run and (collection != current or len(run) >= self.batch_size):
                yield current, run
                run = []
            current = collection
            run.append(change)
        if run:
            yield current, run

    def _move_unchanged(
        self, plan: Plan, target: Mapping[Key, str | None], guids: Mapping[Key, str], result: ApplyResult
    ) -> None:
        """Entities featmesh leaves unchanged that sit in another collection than their
        domain's now (the mapping changed): ``POST /entity/moveTo``, per collection.
        Updated entities move with their bulk write's ``collectionId``."""
        moves: dict[str, list[Key]] = {}
        for change in plan.changes:
            want = target.get(change.key)
            have = (change.current or {}).get("collectionId")
            if change.action == "unchanged" and want and have and have != want:
                moves.setdefault(want, []).append(change.key)
        for collection, keys in sorted(moves.items()):
            for chunk in _chunks(keys, self.batch_size):
                body = {"entityGuids": [guids[k] for k in chunk]}
                try:
                    params = {"collectionId": collection}
                    self.rest.request("POST", "/entity/moveTo", params=params, body=body)
                except CatalogError as err:
                    result.failed.append(
                        f"move of {len(chunk)} entities from {chunk[0][1]} "
                        f"to collection '{collection}': {err}" + _forbidden_hint(err, collection)
                    )
                    continue
                result.updated += len(chunk)

    def _write_classifications(
        self, plan: Plan, guids: dict[Key, str], failed: set[Key], carried: set[Key], result: ApplyResult
    ) -> None:
        todo = []
        for change in plan.classifications:
            if change.key in failed or not owned(change.name):
                continue
            if change.action == "add" and change.key in carried:
                result.classifications += 1
                continue
            todo.append(change)
        with progress.meter(f"writing classifications to {self.uri}", len(todo), "requests") as bar:
            for change in todo:
                self._write_classification(change, guids, result)
                bar.advance()

    def _write_classification(
        self, change: ClassificationChange, guids: dict[Key, str], result: ApplyResult
    ) -> None:
        guid = guids.get(change.key)
        if guid is None:
            result.failed.append(f"classification {change.name} on {change.key[1]}: entity guid unknown")
            self._unsure.add(change.key)
            return
        body = [{"typeName": change.name, "attributes": dict(change.attributes), "propagate": False}]
        path = f"/entity/guid/{guid}/classifications"
        try:
            if change.action == "remove":
                self.rest.request(
                    "DELETE", f"/entity/guid/{guid}/classification/{quote(change.name)}", allow=(404,)
                )
            elif change.action == "add":
                answer = self.rest.request("POST", path, body=body, allow=(400, 409))
                if isinstance(answer, dict) and "_status" in answer:
                    if not _already_associated(answer):
                        raise CatalogError(
                            f"POST {path}: HTTP {answer['_status']} "
                            f"{answer.get('errorCode')}: {answer.get('errorMessage')}",
                            status=answer["_status"],
                        )
                    self.rest.request("PUT", path, body=body)
            else:
                self.rest.request("PUT", path, body=body)
        except CatalogError as err:
            result.failed.append(f"classification {change.name} on {change.key[1]}: {err}")
            self._unsure.add(change.key)
            return
        result.classifications += 1

    def _delete(self, plan: Plan, guids: dict[Key, str], result: ApplyResult, run_id: str) -> None:
        retiring = plan.of("retire")
        with progress.meter(f"retiring entities in {self.uri}", len(retiring), "entities") as bar:
            for change in retiring:
                body = [retired_classification(run_id)]
                path = f"/entity/guid/{guids[change.key]}/classifications"
                try:
                    self.rest.request("POST", path, body=body, allow=(400, 409))
                    result.retired += 1
                except CatalogError as err:
                    result.failed.append(f"retire {change.key[1]}: {err}")
                    self._unsure.add(change.key)
                bar.advance()
        doomed = sorted(plan.of("delete"), key=lambda c: (_delete_rank(c.key[0]), c.key[1]))
        for batch in _chunks(doomed, self.batch_size):
            params = [("guid", guids[c.key]) for c in batch]
            try:
                self.rest.request("DELETE", "/entity/bulk", params=params)
            except CatalogError as err:
                result.failed.append(f"delete batch from {batch[0].key[1]}: {err}")
                self._unsure.update(c.key for c in batch)
                continue
            result.deleted += len(batch)

    # ------------------------------------------------------------------ runs

    @property
    def history(self) -> LocalCatalog:
        """Run records live on this machine: Atlas has no place for them."""
        if self._history is None:
            self._history = LocalCatalog(self._history_path, read_only=self.read_only)
        return self._history

    def record_profiles(self, run_id: str, rows: Iterable[tuple[str, str, str, str]]) -> None:
        self.history.record_profiles(run_id, rows)

    def latest_profiles(self, feature_sets: Iterable[str]) -> dict[tuple[str, str], str]:
        return self.history.latest_profiles(feature_sets)

    def record_run(self, record: dict[str, Any]) -> None:
        self.history.record_run({**record, "catalog": self.uri})

    def last_scan(self, window: int = 10, *, parts: Iterable[str] | None = None) -> dict[str, Any] | None:
        return self.history.last_scan(self.uri, window * 4, parts=parts)

    def briefs(self, limit: int = 50) -> list[dict[str, Any]]:
        return [r for r in self.history.briefs(limit * 4) if r.get("catalog") == self.uri][:limit]

    def run(self, run_id: str, parts: Iterable[str] | None = None) -> dict[str, Any] | None:
        record = self.history.run(run_id, parts)
        return record if record is not None and record.get("catalog") == self.uri else None

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        return [r for r in self.history.runs(limit * 4) if r.get("catalog") == self.uri][:limit]

    def recent_runs(self, limit: int = 10) -> list[Mapping[str, Any]]:
        return [r for r in self.history.recent_runs(limit * 4) if r.get("catalog") == self.uri][:limit]

    def close(self) -> None:
        if self._history is not None:
            self._history.close()
        self.rest.session.close()


# --------------------------------------------------------------------------- helpers


def owner_directory(
    credential: Any, host: str, owners: Mapping[str, str] | None, lookup: str | None
) -> OwnerDirectory:
    """Purview's owner resolution: ``owners`` first, then Microsoft Graph in the Data
    Map host's cloud with the same credential (``lookup`` ``config`` turns Graph off)."""
    if lookup not in (None, "graph", "config"):
        raise UsageError(f"catalog.owner_lookup: expected 'graph' or 'config', not {lookup!r}")

    def token(scope: str) -> str:
        value = str(credential.get_token(scope).token)
        redact.register_value(value)
        return value

    if lookup == "config":
        return OwnerDirectory(owners)
    return OwnerDirectory(owners, graph=graph_root(host), token=token)


def _classified(held: list[dict[str, Any]], changes: Sequence[Any]) -> list[dict[str, Any]]:
    """``held`` classifications after a plan's classification changes of that entity."""
    by_name = {c["typeName"]: c for c in held}
    for change in changes:
        if change.action == "remove":
            by_name.pop(change.name, None)
        else:
            by_name[change.name] = {"typeName": change.name, "attributes": dict(change.attributes)}
    return sorted(by_name.values(), key=lambda c: c["typeName"])


def _active(
    raw: Mapping[str, Mapping[str, Any]], names: Mapping[str, tuple[str, str]]
) -> dict[Key, EntityJson]:
    """The active entities among ``raw`` (by guid), in the plan's form, by key."""
    out: dict[Key, EntityJson] = {}
    for entity in raw.values():
        if entity.get("status", "ACTIVE") != "ACTIVE":
            continue
        normal = _normalise(entity, names)
        out[(normal["typeName"], normal["attributes"]["qualifiedName"])] = normal
    return out


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _as_list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, dict)]


def _active_link(item: Mapping[str, Any]) -> bool:
    return (
        item.get("relationshipStatus", "ACTIVE") == "ACTIVE"
        and item.get("entityStatus", "ACTIVE") == "ACTIVE"
    )


def _clear_removed(entity: dict[str, Any], fields: Sequence[str], current: Mapping[str, Any]) -> None:
    """Atlas keeps attributes an update leaves out: send an explicit null (or an empty
    list) for each value featmesh no longer sets, so that it is cleared."""
    for name in fields:
        if name == BUSINESS_FIELD:
            continue
        if name.startswith("relationship:"):
            attr = name.split(":", 1)[1]
            if attr not in entity["relationshipAttributes"]:
                was = (current.get("relationshipAttributes") or {}).get(attr)
                entity["relationshipAttributes"][attr] = [] if isinstance(was, list) else None
        elif name not in entity["attributes"]:
            was = (current.get("attributes") or {}).get(name)
            entity["attributes"][name] = (
                [] if isinstance(was, list) else {} if isinstance(was, dict) else None
            )


def _business_values(desired: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """featmesh's group as an update sends it: the desired values, and a null for each
    value the catalog holds that featmesh no longer sets (a merge keeps what is left out)."""
    want = dict((desired.get("businessAttributes") or {}).get(GROUP) or {})
    held = (current.get("businessAttributes") or {}).get(GROUP) or {}
    for name in held:
        want.setdefault(name, None)
    return {GROUP: want}


def _json_size(entity: Mapping[str, Any]) -> int:
    return len(json.dumps(entity, separators=(",", ":")).encode())


def _forbidden_hint(err: CatalogError, collection: str | None) -> str:
    """What a 403 from Purview means for featmesh: the principal is not curator there."""
    if err.status != 403:
        return ""
    where = f"collection '{collection}'" if collection else "the root collection"
    return f" (the principal needs the {CURATOR_ROLE} role on {where})"


def _already_associated(answer: Mapping[str, Any]) -> bool:
    """Atlas's answer to adding a classification an entity already has (a retried
    add that had gone through, say): update it instead."""
    text = f"{answer.get('errorCode', '')} {answer.get('errorMessage', '')}".lower()
    return answer.get("_status") == 409 or "already associated" in text


def _delete_rank(type_name: str) -> int:
    return DELETE_ORDER.index(type_name) if type_name in DELETE_ORDER else len(DELETE_ORDER)


def _ref(value: Mapping[str, Any], names: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    qn = (value.get("uniqueAttributes") or {}).get("qualifiedName")
    type_name = value.get("typeName")
    guid = value.get("guid")
    if not qn and isinstance(guid, str) and guid in names:
        type_name, qn = names[guid]
    if not qn:
        return {"typeName": type_name, "guid": value.get("guid")}
    return {"typeName": type_name, "uniqueAttributes": {"qualifiedName": qn}}


def _normalise(
    entity: Mapping[str, Any], names: Mapping[str, tuple[str, str]], keep_all: bool = False
) -> EntityJson:
    """An entity as Atlas returns it -> the plan's form: references by qualifiedName,
    no nulls, deleted links dropped, only the entity's own classifications."""
    attributes: dict[str, Any] = {}
    for key, value in (entity.get("attributes") or {}).items():
        if value is None:
            continue
        if key in ("inputs", "outputs"):
            value = [_ref(v, names) for v in _as_list(value)]
        attributes[key] = value
    relationships: dict[str, Any] = {}
    for key, value in (entity.get("relationshipAttributes") or {}).items():
        if isinstance(value, list):
            items = [_ref(v, names) for v in _as_list(value) if _active_link(v)]
            if items or keep_all:
                relationships[key] = items
        elif isinstance(value, dict) and _active_link(value):
            relationships[key] = _ref(value, names)
    out: EntityJson = {
        "typeName": entity["typeName"],
        "guid": entity["guid"],
        "attributes": attributes,
        "relationshipAttributes": relationships,
    }
    if entity.get("contacts"):  # Purview: owners and experts (compared when writing)
        out["contacts"] = entity["contacts"]
    if entity.get("collectionId"):  # Purview: the collection holding the entity (not diffed)
        out["collectionId"] = entity["collectionId"]
    if entity.get("businessAttributes"):  # only featmesh's group is compared (plan.diff_fields)
        out["businessAttributes"] = entity["businessAttributes"]
    classifications = [
        {
            "typeName": c["typeName"],
            "attributes": {k: v for k, v in (c.get("attributes") or {}).items() if v is not None},
        }
        for c in entity.get("classifications") or []
        if c.get("entityGuid") in (None, entity["guid"])
    ]
    if classifications:
        out["classifications"] = sorted(classifications, key=lambda c: c["typeName"])
    return out


def _refused(err: CatalogError) -> bool:
    """Whether the catalog refused a write for what it holds (a value out of range, an
    unknown attribute, a reference it cannot resolve), rather than for who sent it (401,
    403), when (429) or its own state (5xx). Atlas answers its payload checks with 400
    ``ATLAS-400-00-*`` codes, except value checks (``INSTANCE_CRUD_INVALID_PARAMS``,
    ``ATLAS-404-00-007``) and unresolved references (``REFERENCED_ENTITY_NOT_FOUND``,
    ``ATLAS-404-00-00A``), which answer 404 (``AtlasErrorCode`` in apache/atlas,
    intg/src/main/java/org/apache/atlas/AtlasErrorCode.java)."""
    code = err.code or ""
    if err.status == 400:
        return code.startswith("ATLAS-400-")
    return err.status == 404 and code in REFUSED_404_CODES


def _references(entity: Mapping[str, Any]) -> Iterator[Key]:
    """The (typeName, qualifiedName) of every entity ``entity`` refers to by unique attributes."""
    values: list[Any] = list((entity.get("relationshipAttributes") or {}).values())
    attributes = entity.get("attributes") or {}
    values += [attributes.get(name) for name in ("inputs", "outputs")]
    for value in values:
        for ref in value if isinstance(value, list) else [value]:
            if isinstance(ref, Mapping) and isinstance(ref.get("uniqueAttributes"), Mapping):
                yield (str(ref.get("typeName")), str(ref["uniqueAttributes"].get("qualifiedName")))


def _with_guid_refs(entity: Mapping[str, Any], local: Mapping[Key, str]) -> dict[str, Any]:
    """A copy of ``entity`` whose references to entities of the same batch use guids."""
    out = copy.deepcopy(dict(entity))

    def swap(ref: Any) -> Any:
        if isinstance(ref, list):
            return [swap(r) for r in ref]
        if isinstance(ref, dict) and "uniqueAttributes" in ref:
            key = (str(ref.get("typeName")), str(ref["uniqueAttributes"].get("qualifiedName")))
            if key in local:
                return {"guid": local[key], "typeName": ref["typeName"]}
        return ref

    out["relationshipAttributes"] = {k: swap(v) for k, v in (out.get("relationshipAttributes") or {}).items()}
    for name in ("inputs", "outputs"):
        if name in out["attributes"]:
            out["attributes"][name] = swap(out["attributes"][name])
    return out


def _typedef_shape(typedef: Mapping[str, Any]) -> Any:
    """What featmesh controls in a typedef, for deciding whether to update it."""
    attributes = sorted(
        (
            a["name"],
            a.get("typeName"),
            bool(a.get("isOptional", True)),
            a.get("cardinality", "SINGLE"),
            bool(a.get("isUnique", False)),
            sorted((k, v) for k, v in (a.get("options") or {}).items() if k in BUSINESS_OPTIONS),
        )
        for a in typedef.get("attributeDefs") or []
    )
    ends = [
        (e.get("type"), e.get("name"), bool(e.get("isContainer")), e.get("cardinality"))
        for e in (typedef.get("endDef1"), typedef.get("endDef2"))
        if e
    ]
    return (
        typedef.get("description"),
        sorted(typedef.get("superTypes") or []),
        attributes,
        sorted(typedef.get("entityTypes") or []),
        typedef.get("relationshipCategory"),
        ends,
        sorted((typedef.get("options") or {}).items()),  # Purview's schemaElementsAttribute
    )

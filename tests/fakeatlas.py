"""A stateful fake of the Apache Atlas v2 REST API (and Purview's Data Map, which speaks it).

It intercepts every request to one base URL with ``responses`` and answers like
Atlas: typedefs, entities (bulk create-or-update with placeholder guids, unique
attribute references, relationships seen from both ends, Process lineage seen from
the DataSets), classifications, soft or hard delete with COMPOSITION cascades, auth,
and seeded faults that strike BEFORE any state changes (so a retried call is safe)::

    with FakeAtlas(base="https://atlas.example.com:21000/api/atlas/v2", auth=("admin", "secret")) as atlas:
        client = AtlasClient(atlas.base, BasicAuthentication("admin", "secret"))
        ...
        assert atlas.entity("featmesh_feature_set", qn)["status"] == "ACTIVE"

    with FakeAtlas.purview("contoso", faults=0.3, seed=7) as purview: ...

Type rules come from featmesh's ``typedefs.TypeSystem``; error answers carry Atlas's
``errorCode`` values (``tests/fakeatlas_errors.py``). Where the fake is stricter than
Atlas it says so in ``STRICTER_THAN_ATLAS``.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import pickle
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests
import responses

from featmesh.typedefs import TypeSystem, load_base_typedefs, validate_document
from featmesh.typedefs.diff import refused_changes
from featmesh.typedefs.loader import SECTION_CATEGORY, SECTIONS
from tests.fakeatlas_errors import AtlasError, typedef_error

Json = dict[str, Any]
Key = tuple[str, str]

STRICTER_THAN_ATLAS = (
    "an attribute not defined on the type is refused (400 ATLAS-400-00-023); Atlas drops it silently",
    'values must have the JSON kind of their type (no "5" for an int, no number for a string)',
    "relationship attributes must be sent under relationshipAttributes (Atlas also reads them from "
    "attributes); Process inputs/outputs are plain attributes, as in Atlas's model",
    "business metadata in a bulk write is checked as POST /entity/guid/{guid}/businessmetadata checks "
    "it (404 ATLAS-404-00-007); Atlas's bulk create drops a group not applicable to the type "
    "(EntityGraphMapper.addOrUpdateBusinessAttributes); an attribute of a known group that does not "
    "apply to the type is refused too, where Atlas ignores it",
)
BUSINESS_METADATA = (
    "Business metadata (Purview's managed attributes): typedefs in businessMetadataDefs, each attribute "
    "naming its entity types in options.applicableEntityTypes (a JSON list in a string) and a string's "
    "options.maxStrLength; entities carry businessAttributes {group: {attribute: value}}. A bulk write "
    "applies them to the entities it creates; on updates Atlas ignores them (createOrUpdate with "
    "replaceBusinessAttributes false), Purview follows businessAttributeUpdateBehavior: ignore (the "
    "default here), merge (only the attributes given change) or replace. POST "
    "/entity/guid/{guid}/businessmetadata?isOverwrite=false adds or updates the attributes given, true "
    "replaces all of the entity's; a group or attribute not applicable to the type, a value of the wrong "
    "type or longer than maxStrLength is refused with 404 ATLAS-404-00-007 (INSTANCE_CRUD_INVALID_PARAMS), "
    "messages as Atlas words them. Sources: apache/atlas AtlasEntityStoreV2.validateBusinessAttributes "
    "and addOrUpdateBusinessAttributes, EntityREST.addOrUpdateBusinessAttributes (isOverwrite default "
    "false); https://learn.microsoft.com/rest/api/purview/datamapdataplane/entity/bulk-create-or-update "
    "(businessAttributeUpdateBehavior), "
    "https://learn.microsoft.com/rest/api/purview/datamapdataplane/entity/add-or-update-business-metadata, "
    "https://learn.microsoft.com/rest/api/purview/datamapdataplane/type/get-business-metadata-def-by-guid "
    "(options maxStrLength, applicableEntityTypes)."
)
NOT_MODELLED = (
    "partial updates, labels, glossary, lineage API, audit; search only by type",
    "classification propagation along relationships other than Process inputs/outputs (featmesh's own "
    "relationship types are propagateTags NONE); relationship guids are stable but relationships have "
    "no own API",
    "soft-deleted relationships are not shown on the entities that remain",
)

PROCESS_IO = {
    # Process attribute -> (relationship type, inverse attribute on DataSet)
    "inputs": ("dataset_process_inputs", "inputToProcesses"),
    "outputs": ("process_dataset_outputs", "outputFromProcesses"),
}
INVERSE_IO = {inverse: (attr, rel) for attr, (rel, inverse) in PROCESS_IO.items()}
PROPAGATION = (
    "A classification whose propagate flag is true or absent (Atlas's and Purview's default) is "
    "propagated downstream along lineage: Atlas's base model declares dataset_process_inputs "
    "propagateTags TWO_TO_ONE (DataSet -> Process) and process_dataset_outputs ONE_TO_TWO (Process -> "
    "DataSet), transitively, so a parent set's classification lands on its pipeline and on every "
    "derived set. Propagated classifications are answered with the source's entityGuid. Sources: "
    "apache/atlas addons/models/0000-Area0/0010-base_model.json (propagateTags), "
    "https://atlas.apache.org/2.0.0/ClassificationPropagation.html, and pyapacheatlas's switch to "
    "propagate=false after propagated copies flooded related entities "
    "(https://github.com/wjohnson/pyapacheatlas/issues/71, pull request #82)."
)
PURVIEW_MAX_BULK = 200
PURVIEW_MAX_ENTITY_BYTES = 2 * 1024 * 1024
PURVIEW_NOTES = (
    "collections: entities carry collectionId; a bulk call's collectionId query parameter places "
    "new entities and moves existing ones, POST /entity/moveTo?collectionId= moves by guid; writing "
    "needs the Data Curator role on the source and target collection, else 403 in Azure's error "
    "envelope (the message text is the fake's) "
    "(https://learn.microsoft.com/rest/api/purview/datamapdataplane/entity/bulk-create-or-update, "
    "https://learn.microsoft.com/purview/how-to-create-and-manage-collections)",
    "limits: 2 MB an asset (https://learn.microsoft.com/purview/how-to-manage-quotas); 200 entities "
    "a bulk call is the fake's cap, the size reported to work (Purview documents none: "
    "https://learn.microsoft.com/answers/questions/5922338); 25 operations a second per capacity "
    "unit, entities, relationships and classifications each counting "
    "(https://learn.microsoft.com/purview/concept-elastic-data-map), answered 429 with Retry-After "
    "beyond (the fake's model: Purview documents no throttling answer)",
)
_DATE = re.compile(r"\d{1,4}-\d{1,2}-\d{1,2}T\d{1,2}:\d{1,2}:\d{1,2}\.\d{1,3}Z")
_NOT_FOUND = object()


# --------------------------------------------------------------------------- state


@dataclass
class _Entity:
    guid: str
    type_name: str
    attributes: Json
    status: str = "ACTIVE"
    classifications: dict[str, Json] = field(default_factory=dict)
    propagate: dict[str, bool] = field(default_factory=dict)
    collection: str | None = None
    """Purview: the collection holding the entity."""
    contacts: Json | None = None
    """Purview: ``{"Owner": [{"id", "info"}], "Expert": [...]}`` (Entra object ids)."""
    business: dict[str, Json] = field(default_factory=dict)
    """Business metadata: group -> attribute -> value (see ``BUSINESS_METADATA``)."""
    written_at: int = 0
    """Purview: the number of the bulk write that created it (for the search index's lag)."""
    """classification name -> its ``propagate`` flag (absent or null: Atlas's default, true)."""
    version: int = 0
    create_time: int = 0
    update_time: int = 0

    @property
    def qualified_name(self) -> str:
        return str(self.attributes.get("qualifiedName"))


@dataclass
class _Relationship:
    guid: str
    type_name: str
    end1: str  # guid of the entity at endDef1
    end2: str


@dataclass
class Call:
    """One request the fake answered (never with its headers: no credentials kept)."""

    method: str
    template: str
    path: str
    status: int
    fault: str | None = None


@dataclass
class _Scheduled:
    method: str
    template: str
    countdown: int
    kind: str


class FakeAtlas:
    """The fake server. ``delete`` is "soft" (Atlas's default: status DELETED, the entity
    stays readable by guid but leaves unique-attribute lookups) or "hard" (gone).

    ``faults`` is the share of calls answered with a fault picked from ``fault_kinds``
    ("429" with Retry-After, "503", "drop": requests.ConnectionError), drawn from a
    ``random.Random(seed)``; ``fail(...)`` schedules one specific failure.
    """

    def __init__(
        self,
        base: str = "https://atlas.example.com:21000/api/atlas/v2",
        *,
        auth: tuple[str, str] | None = ("admin", "admin"),
        bearer: str | None = None,
        delete: str = "soft",
        faults: float = 0.0,
        seed: int = 0,
        fault_kinds: Iterable[str] = ("429", "503", "drop"),
        retry_after: str = "1",
        typedefs: Mapping[str, Any] | None = None,
        mock: responses.RequestsMock | None = None,
        rollback: bool = True,
    ):
        if delete not in ("soft", "hard"):
            raise ValueError("delete is 'soft' or 'hard'")
        self.base = base.rstrip("/")
        self._basic = auth
        self._bearer = bearer
        self._purview = False
        self.root_collection: str | None = None
        self.collections: set[str] = set()
        """Purview: the collections of the account (the root is named after the account)."""
        self.curator_of: set[str] | None = None
        """Purview: collections where the caller holds Data Curator (None: all)."""
        self.meter: _Meter | None = None
        self.throttled = 0
        """429s the operations meter answered."""
        self.index_lag = 0
        """Purview: entities created by the last ``index_lag`` bulk writes are not yet in the
        discovery index (search trails the Data Map; featmesh must not decide from it)."""
        self._bulk_writes = 0
        self.delete_mode = delete
        self.rollback = rollback
        """False skips the copy of the state each write takes to undo a refused call
        (benchmarks with tens of thousands of entities; a refusal may then leave traces)."""
        self.faults = faults
        self.fault_kinds = tuple(fault_kinds)
        self.retry_after = retry_after
        self._fault_rng = random.Random(seed)
        self._guid_rng = random.Random(f"guids-{seed}")
        self._scheduled: list[_Scheduled] = []
        self._mock = mock
        self._own_mock = mock is None
        self.calls: list[Call] = []
        self.request_counts: Counter[tuple[str, str]] = Counter()
        self._clock = 1_700_000_000_000
        self._types: dict[str, tuple[str, Json]] = {}  # name -> (section, def)
        self._entities: dict[str, _Entity] = {}
        self._by_qn: dict[str, list[str]] = {}
        self._rels_by_end: dict[str, set[str]] = {}
        """entity guid -> guids of the relationships it is an end of."""
        """qualifiedName -> guids ever created with it (lookups check the live state)."""
        self._relationships: dict[str, _Relationship] = {}
        self._refusals: dict[Key, tuple[str, tuple[Any, ...]]] = {}
        self._install_types(typedefs if typedefs is not None else load_base_typedefs())

    @classmethod
    def purview(
        cls, account: str, *, token: str | None = None, host: str | None = None, **kwargs: Any
    ) -> FakeAtlas:
        """Purview's Data Map endpoint (``https://ACCOUNT.purview.azure.com``, or ``host``, a
        scheme and authority such as ``https://10.1.2.3:8443``); any Bearer token unless
        ``token`` is given."""
        root = host.rstrip("/") if host else f"https://{account}.purview.azure.com"
        purview_only = {
            k: kwargs.pop(k)
            for k in ("collections", "curator_of", "operations_per_second", "clock")
            if k in kwargs
        }
        fake = cls(f"{root}/datamap/api/atlas/v2", auth=None, **kwargs)
        fake._bearer = token
        fake._purview = True
        fake.root_collection = account
        fake.collections = {account, *purview_only.get("collections", ())}
        curators = purview_only.get("curator_of")
        fake.curator_of = None if curators is None else set(curators)
        rate = purview_only.get("operations_per_second")
        if rate is not None:
            fake.meter = _Meter(rate, purview_only.get("clock") or time.monotonic)
        return fake

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> FakeAtlas:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        if self._mock is None:
            self._mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        pattern = re.compile(re.escape(self.base) + r"(/[^?]*)?(\?.*)?$")
        for method in ("GET", "POST", "PUT", "DELETE"):
            self._mock.add_callback(method, pattern, callback=self._callback)
        if self._purview:
            search = re.compile(re.escape(self.base.rsplit("/atlas/v2", 1)[0]) + r"/search/query(\?.*)?$")
            self._mock.add_callback("POST", search, callback=self._discovery)
        if self._own_mock:
            self._mock.start()

    def stop(self) -> None:
        if self._own_mock and self._mock is not None:
            self._mock.stop()
            self._mock.reset()

    # ------------------------------------------------------------------ fault controls

    def fail(self, method: str, template: str, *, nth: int = 1, kind: str = "503") -> None:
        """Make the ``nth`` next call to (method, template) fail with ``kind``
        ("429", "503", "500", "drop"), before it touches state.
        Example: ``atlas.fail("POST", "/entity/bulk", nth=3)``."""
        self._scheduled.append(_Scheduled(method.upper(), template, nth, kind))

    # ------------------------------------------------------------------ inspection

    def refuse(
        self, type_name: str, qualified_name: str, key: str = "INVALID_PARAMETERS", *args: Any
    ) -> None:
        """Answer every bulk write holding this entity as Atlas answers a payload it refuses:
        the ``AtlasErrorCode`` ``key`` (``tests/fakeatlas_errors.py``) with ``args`` for its
        message, the whole call rolled back. ``allow`` lifts it."""
        self._refusals[(type_name, qualified_name)] = (key, args)

    def allow(self, type_name: str, qualified_name: str) -> None:
        self._refusals.pop((type_name, qualified_name), None)

    def entities(self, *, status: str | None = "ACTIVE") -> dict[Key, Json]:
        """(typeName, qualifiedName) -> entity as GET /entity/guid answers it (with classifications)."""
        return {
            (e.type_name, e.qualified_name): self._entity_json(e)
            for e in self._entities.values()
            if status is None or e.status == status
        }

    def entity(self, type_name: str, qualified_name: str) -> Json | None:
        found = self._find(type_name, qualified_name, subtypes=False)
        return self._entity_json(found) if found else None

    def classifications(self, type_name: str, qualified_name: str) -> dict[str, Json]:
        found = self._find(type_name, qualified_name, subtypes=False)
        return copy.deepcopy(found.classifications) if found else {}

    def typedef(self, name: str) -> Json | None:
        found = self._types.get(name)
        return copy.deepcopy(found[1]) if found else None

    def count(self, method: str, template: str) -> int:
        return self.request_counts[(method.upper(), template)]

    def snapshot(self, *, drop_attributes: Iterable[str] = ()) -> Json:
        """The whole state without guids, times or versions: equal for equal histories.
        ``drop_attributes`` leaves out (classification and entity) attributes that differ
        from run to run, such as ``runId`` or ``evaluatedAt``."""
        dropped = set(drop_attributes)
        types = {name: _canonical_def(body) for name, (_, body) in sorted(self._types.items())}
        entities = []
        for e in self._entities.values():
            attributes = {k: v for k, v in self._attributes_view(e).items() if k not in dropped}
            relations = {
                name: sorted(self._key_of(r) for r in refs) if isinstance(refs, list) else self._key_of(refs)
                for name, refs in self._relationships_view(e).items()
                if refs not in (None, [])
            }
            entities.append(
                {
                    "typeName": e.type_name,
                    "qualifiedName": e.qualified_name,
                    "status": e.status,
                    "attributes": _strip_guids(attributes, self),
                    "relationshipAttributes": relations,
                    "classifications": {
                        name: {k: v for k, v in attrs.items() if k not in dropped}
                        for name, attrs in sorted(e.classifications.items())
                    },
                    "businessAttributes": {
                        group: {k: v for k, v in attrs.items() if k not in dropped}
                        for group, attrs in sorted(e.business.items())
                    },
                }
            )
        entities.sort(key=lambda x: (x["typeName"], x["qualifiedName"], x["status"]))
        return {"types": types, "entities": entities}

    # ------------------------------------------------------------------ HTTP

    def _callback(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        parts = urlsplit(str(request.url))
        path = unquote(parts.path)[len(urlsplit(self.base).path) :] or "/"
        query = parse_qsl(parts.query, keep_blank_values=True)
        method = str(request.method).upper()
        route = _route(method, path)
        template = route[0] if route else path
        self.request_counts[(method, template)] += 1
        fault = self._fault(method, template)
        if fault is None and self.meter is not None:
            wait = self.meter.charge(_metered_operations(request))
            if wait is not None:
                self.throttled += 1
                self.calls.append(Call(method, template, path, 429, "meter"))
                body = {"error": {"code": "TooManyRequests", "message": "Rate limit exceeded, retry later."}}
                headers = {"Retry-After": f"{max(1, math.ceil(wait))}", "Content-Type": "application/json"}
                return 429, headers, json.dumps(body)
        if fault is not None:
            self.calls.append(Call(method, template, path, 0 if fault == "drop" else int(fault), fault))
            if fault == "drop":
                raise requests.ConnectionError(f"fake atlas dropped the connection ({method} {template})")
            return self._fault_answer(fault)
        status, headers, body = self._answer(request, method, route, path, query)
        self.calls.append(Call(method, template, path, status))
        return status, headers, body

    def _fault(self, method: str, template: str) -> str | None:
        for item in self._scheduled:
            if item.method == method and item.template == template:
                item.countdown -= 1
                if item.countdown == 0:
                    self._scheduled.remove(item)
                    return item.kind
                break
        if self.faults and self._fault_rng.random() < self.faults:
            return self._fault_rng.choice(self.fault_kinds)
        return None

    def _fault_answer(self, kind: str) -> tuple[int, dict[str, str], str]:
        if kind == "429":
            body = {"error": {"code": "TooManyRequests", "message": "Rate limit exceeded, retry later."}}
            return (
                429,
                {"Retry-After": self.retry_after, "Content-Type": "application/json"},
                json.dumps(body),
            )
        if kind == "503":
            return 503, {"Content-Type": "text/plain"}, "Service Unavailable"
        return int(kind), {"Content-Type": "text/plain"}, "Internal Server Error"

    def _answer(
        self,
        request: requests.PreparedRequest,
        method: str,
        route: tuple[str, str, dict[str, str]] | None,
        path: str,
        query: list[tuple[str, str]],
    ) -> tuple[int, dict[str, str], str]:
        if not self._authorized(request.headers.get("Authorization")):
            if self._purview:
                body = {"error": {"code": "Unauthorized", "message": "Authentication failed."}}
                return 401, {"Content-Type": "application/json"}, json.dumps(body)
            return (
                401,
                {"Content-Type": "text/html", "WWW-Authenticate": 'Basic realm="atlas.com"'},
                ("<html><body><h2>HTTP ERROR 401</h2></body></html>"),
            )
        if route is None:
            return 404, {"Content-Type": "text/html"}, "<html><body><h2>HTTP ERROR 404</h2></body></html>"
        _, handler_name, params = route
        try:
            payload = json.loads(request.body) if request.body else None
        except (ValueError, TypeError):
            return _error(AtlasError("BAD_REQUEST", "request body is not JSON"))
        saved = None
        if method != "GET" and self.rollback:  # a refused write leaves nothing behind
            saved = (_snapshot(self._entities), _snapshot(self._relationships), dict(self._types))
        try:
            status, body = getattr(self, handler_name)(params, query, payload)
        except AtlasError as error:
            if saved is not None:
                self._entities, self._relationships, self._types = saved
                self._system = self._build_system()
                self._rels_by_end = {}
                for rel in self._relationships.values():
                    self._add_rel(rel)
            return _error(error)
        if body is None:
            return status, {}, ""
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        if self._purview:
            return scheme == "Bearer" and bool(value) and (self._bearer is None or value == self._bearer)
        if self._basic is None:
            return True
        if scheme != "Basic":
            return False
        try:
            decoded = base64.b64decode(value).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        return decoded == f"{self._basic[0]}:{self._basic[1]}"

    # ------------------------------------------------------------------ typedefs

    def _install_types(self, doc: Mapping[str, Any]) -> None:
        for section in SECTIONS:
            for body in doc.get(section) or []:
                self._types[body["name"]] = (section, self._stamped(section, body))
        self._system = self._build_system()

    def _stamped(self, section: str, body: Mapping[str, Any], old: Json | None = None) -> Json:
        stamped = copy.deepcopy(dict(body))
        stamped["category"] = SECTION_CATEGORY[section]
        stamped["guid"] = old["guid"] if old else self._new_guid()
        stamped["version"] = (old["version"] + 1) if old else 1
        stamped.setdefault("typeVersion", "1.0")
        stamped["createTime"] = old["createTime"] if old else self._tick()
        stamped["updateTime"] = self._tick()
        return stamped

    def _document(self) -> dict[str, list[Json]]:
        doc: dict[str, list[Json]] = {section: [] for section in SECTIONS}
        for section, body in self._types.values():
            doc[section].append(body)
        return doc

    def _build_system(self) -> TypeSystem:
        return TypeSystem.from_documents({}, self._document())

    def get_typedefs(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        return 200, self._document()

    def get_headers(self, params: Json, query: list, payload: Any) -> tuple[int, list[Json]]:
        headers = [
            {"guid": b["guid"], "name": n, "category": b["category"], "serviceType": b.get("serviceType")}
            for n, (_, b) in sorted(self._types.items())
        ]
        return 200, headers  # type: ignore[return-value]

    def get_typedef(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        found = self._types.get(params["name"])
        wanted = params.get("category")
        if found is None or (wanted and found[1]["category"] != wanted):
            raise AtlasError("TYPE_NAME_NOT_FOUND", params["name"])
        return 200, copy.deepcopy(found[1])

    def post_typedefs(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        doc = _typedef_payload(payload)
        for section in SECTIONS:
            for body in doc[section]:
                if body["name"] in self._types:
                    raise AtlasError("TYPE_ALREADY_EXISTS", body["name"])
        problems = validate_document(doc, self._document())
        if problems:
            raise typedef_error(str(problems[0]))
        created: Json = {section: [] for section in SECTIONS}
        for section in SECTIONS:
            for body in doc[section]:
                stamped = self._stamped(section, body)
                self._types[body["name"]] = (section, stamped)
                created[section].append(copy.deepcopy(stamped))
        self._system = self._build_system()
        return 200, created

    def put_typedefs(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        doc = _typedef_payload(payload)
        old_doc: dict[str, list[Json]] = {section: [] for section in SECTIONS}
        for section in SECTIONS:
            for body in doc[section]:
                if body["name"] not in self._types:
                    raise AtlasError("TYPE_NAME_NOT_FOUND", body["name"])
                old_section, old = self._types[body["name"]]
                old_doc[old_section].append(old)
        refused = refused_changes(old_doc, doc)
        for section in ("classificationDefs",):
            for body in doc[section]:
                before = set(self._types[body["name"]][1].get("entityTypes") or [])
                after = set(body.get("entityTypes") or [])
                if before and (not after or not before <= after):
                    raise AtlasError("ENTITYTYPE_REMOVAL_NOT_SUPPORTED", body["name"])
        if refused:
            raise typedef_error(refused[0], update=True)
        merged = self._document()
        names = {body["name"] for section in SECTIONS for body in doc[section]}
        for section in SECTIONS:
            merged[section] = [b for b in merged[section] if b["name"] not in names] + list(doc[section])
        problems = validate_document(merged, {})
        if problems:
            raise typedef_error(str(problems[0]))
        updated: Json = {section: [] for section in SECTIONS}
        for section in SECTIONS:
            for body in doc[section]:
                stamped = self._stamped(section, body, self._types[body["name"]][1])
                self._types[body["name"]] = (section, stamped)
                updated[section].append(copy.deepcopy(stamped))
        self._system = self._build_system()
        return 200, updated

    def delete_typedef(self, params: Json, query: list, payload: Any) -> tuple[int, None]:
        name = params["name"]
        if name not in self._types:
            raise AtlasError("TYPE_NAME_NOT_FOUND", name)
        in_use = any(e.type_name == name or name in e.classifications for e in self._entities.values())
        for _, body in self._types.values():
            ends = [body.get("endDef1") or {}, body.get("endDef2") or {}]
            if name in (body.get("superTypes") or []) or any(end.get("type") == name for end in ends):
                in_use = True
        if in_use:
            raise AtlasError("TYPE_HAS_REFERENCES", name)
        del self._types[name]
        self._system = self._build_system()
        return 204, None

    # ------------------------------------------------------------------ entity reads

    def get_entity(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        entity = self._entities.get(params["guid"])
        if entity is None:
            raise AtlasError("INSTANCE_GUID_NOT_FOUND", params["guid"])
        return 200, self._with_ext_info([entity], query, single=True)

    def post_search_basic(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        """Atlas basic search by type: entity headers, paged by limit and offset."""
        if not isinstance(payload, Mapping) or not payload.get("typeName"):
            raise AtlasError("INVALID_PARAMETERS", "typeName is required")
        return 200, {"queryType": "BASIC", "entities": self._search(payload)}

    def _search(self, payload: Mapping[str, Any]) -> list[Json]:
        type_name = payload["typeName"]
        self._entity_type(type_name)
        subtypes = bool(payload.get("includeSubTypes", True))
        hits = [
            e
            for e in self._entities.values()
            if (e.type_name == type_name or (subtypes and self._system.is_a(e.type_name, type_name)))
            and (e.status == "ACTIVE" or not payload.get("excludeDeletedEntities", False))
        ]
        offset, limit = int(payload.get("offset", 0)), int(payload.get("limit", 100))
        return [
            {
                "guid": e.guid,
                "typeName": e.type_name,
                "status": e.status,
                "attributes": {"qualifiedName": e.qualified_name, "name": e.attributes.get("name")},
            }
            for e in hits[offset : offset + limit]
        ]

    def _discovery(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        """Purview's discovery query (POST .../datamap/api/search/query), by entityType."""
        if not self._authorized(request.headers.get("Authorization")):
            return 401, {"Content-Type": "application/json"}, json.dumps({"error": {"code": "Unauthorized"}})
        self.request_counts[("POST", "/search/query")] += 1
        payload = json.loads(request.body or "{}")
        offset = int(payload.get("continuationToken") or 0)
        limit = int(payload.get("limit", 50))
        hits = self._search(
            {
                "typeName": payload["filter"]["entityType"],
                "includeSubTypes": False,
                "excludeDeletedEntities": True,
                "offset": offset,
                "limit": limit,
            }
        )
        indexed = self._bulk_writes - self.index_lag
        shown = [h for h in hits if self._entities[h["guid"]].written_at <= indexed]
        body: Json = {"value": [{"id": h["guid"], "entityType": h["typeName"]} for h in shown]}
        if len(hits) == limit:
            body["continuationToken"] = str(offset + limit)
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def get_entities(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        guids = [v for k, v in query if k == "guid"]
        if not guids:
            raise AtlasError("INVALID_PARAMETERS", "guid(s) not specified")
        found = []
        for guid in guids:
            if guid not in self._entities:
                raise AtlasError("INSTANCE_GUID_NOT_FOUND", guid)
            found.append(self._entities[guid])
        return 200, self._with_ext_info(found, query)

    def get_by_unique(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        entity = self._unique_from_query(params["type"], query, "attr:")
        return 200, self._with_ext_info([entity], query, single=True)

    def get_bulk_by_unique(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        self._entity_type(params["type"])
        found = []
        for key, value in query:
            if re.fullmatch(r"attr_\d+:qualifiedName", key):
                entity = self._find(params["type"], value)
                if entity is not None:
                    found.append(entity)
        if not found:
            return 200, {}
        return 200, self._with_ext_info(found, query)

    def _unique_from_query(self, type_name: str, query: list, prefix: str) -> _Entity:
        self._entity_type(type_name)
        values = {k[len(prefix) :]: v for k, v in query if k.startswith(prefix)}
        if "qualifiedName" not in values:
            raise AtlasError("INVALID_PARAMETERS", "no unique attribute given")
        entity = self._find(type_name, values["qualifiedName"])
        if entity is None:
            raise AtlasError("INSTANCE_BY_UNIQUE_ATTRIBUTE_NOT_FOUND", type_name, values)
        return entity

    def _with_ext_info(self, found: list[_Entity], query: list, *, single: bool = False) -> Json:
        flags = {k: v.lower() == "true" for k, v in query if k in ("minExtInfo", "ignoreRelationships")}
        ignore = flags.get("ignoreRelationships", False)
        rendered = [self._entity_json(e, relationships=not ignore) for e in found]
        referred: Json = {}
        if not flags.get("minExtInfo", False):
            shown = {e.guid for e in found}
            for entity in found:
                for guid in self._neighbours(entity):
                    if guid not in shown and guid not in referred:
                        referred[guid] = self._entity_json(self._entities[guid], relationships=not ignore)
        if single:
            return {"entity": rendered[0], "referredEntities": referred}
        return {"entities": rendered, "referredEntities": referred}

    # ------------------------------------------------------------------ entity writes

    def post_entity(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        if not isinstance(payload, Mapping) or not isinstance(payload.get("entity"), Mapping):
            raise AtlasError("INVALID_PARAMETERS", "no entity to create/update.")
        bulk = {"entities": [payload["entity"]], "referredEntities": payload.get("referredEntities") or {}}
        return self.post_bulk(params, query, bulk)

    def post_bulk(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        if not isinstance(payload, Mapping) or not isinstance(payload.get("entities"), list):
            raise AtlasError("INVALID_PARAMETERS", "no entities to create/update.")
        replace = any(k == "replaceClassifications" and v.lower() == "true" for k, v in query)
        items = [*payload["entities"], *(payload.get("referredEntities") or {}).values()]
        if not items:
            raise AtlasError("INVALID_PARAMETERS", "no entities to create/update.")
        if not self._purview:
            return 200, _BulkWrite(self, items, replace, business="ignore").run()
        behaviour = next((v for k, v in query if k == "businessAttributeUpdateBehavior"), "ignore")
        if behaviour not in ("ignore", "merge", "replace"):
            raise _AzureError(
                400, "BadRequest", f"businessAttributeUpdateBehavior '{behaviour}' is not valid."
            )
        if len(items) > PURVIEW_MAX_BULK:
            raise _AzureError(
                400, "BadRequest", f"{len(items)} entities: a bulk call takes {PURVIEW_MAX_BULK}."
            )
        for item in items:
            size = len(json.dumps(item, separators=(",", ":")).encode())
            if size > PURVIEW_MAX_ENTITY_BYTES:
                raise _AzureError(413, "RequestEntityTooLarge", f"an entity of {size} bytes exceeds 2 MB.")
        collection = next((v for k, v in query if k == "collectionId"), None)
        if collection is not None and collection not in self.collections:
            raise _AzureError(404, "NotFound", f"Collection '{collection}' does not exist.")
        response = _BulkWrite(self, items, replace, business=behaviour).run()
        self._bulk_writes += 1
        for guid in sorted(set(response["guidAssignments"].values())):
            entity = self._entities[guid]
            if not entity.written_at:
                entity.written_at = self._bulk_writes
            target = collection or entity.collection or self.root_collection
            for name in sorted({c for c in (entity.collection, target) if c}):
                self._curate(name)  # raising rolls the whole call back
            entity.collection = target
        return 200, response

    def post_business_metadata(self, params: Json, query: list, payload: Any) -> tuple[int, None]:
        """``POST /entity/guid/{guid}/businessmetadata?isOverwrite=``: ``{group: {attr: value}}``
        (see ``BUSINESS_METADATA``)."""
        entity = self._active(params["guid"])
        if not isinstance(payload, Mapping) or not payload:
            raise AtlasError("INVALID_PARAMETERS", "businessAttributes is null/empty")
        problems = self._system.check_entity({"typeName": entity.type_name, "businessAttributes": payload})
        problems = [p for p in problems if "missing required attribute" not in p]
        if problems:
            raise AtlasError("INSTANCE_CRUD_INVALID_PARAMS", problems)
        overwrite = any(k == "isOverwrite" and v.lower() == "true" for k, v in query)
        before = copy.deepcopy(entity.business)
        _merge_business(entity, payload, "replace" if overwrite else "merge")
        if entity.business != before:
            self._touch(entity)
        return 204, None

    def business_metadata(self, type_name: str, qualified_name: str) -> Json:
        """The business metadata an entity holds (``{}`` when none, or no such entity)."""
        found = self._find(type_name, qualified_name)
        return copy.deepcopy(found.business) if found else {}

    def post_move_to(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        """Purview's ``POST /entity/moveTo?collectionId=`` with ``{"entityGuids": [...]}``."""
        collection = next((v for k, v in query if k == "collectionId"), None)
        if not self._purview or collection is None:
            raise AtlasError("INVALID_PARAMETERS", "collectionId is required")
        if collection not in self.collections:
            raise _AzureError(404, "NotFound", f"Collection '{collection}' does not exist.")
        guids = payload.get("entityGuids") if isinstance(payload, Mapping) else None
        if not isinstance(guids, list) or not guids:
            raise AtlasError("INVALID_PARAMETERS", "entityGuids is required")
        moved = [self._active(str(g)) for g in guids]
        for entity in moved:
            for name in sorted({c for c in (entity.collection, collection) if c}):
                self._curate(name)
        for entity in moved:
            entity.collection = collection
            self._touch(entity)
        return 200, {"mutatedEntities": {"UPDATE": [self._header(e) for e in moved]}}

    def _curate(self, collection: str) -> None:
        if self.curator_of is not None and collection not in self.curator_of:
            raise _AzureError(
                403,
                "Forbidden",
                f"The caller is not authorized to perform this action on collection '{collection}'.",
            )

    def collection_of(self, type_name: str, qualified_name: str) -> str | None:
        found = self._find(type_name, qualified_name, subtypes=False)
        return found.collection if found else None

    def delete_entity(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        return 200, self._delete([params["guid"]])

    def delete_entities(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        guids = [v for k, v in query if k == "guid"]
        if not guids:
            raise AtlasError("INVALID_PARAMETERS", "Guid(s) not specified")
        return 200, self._delete(guids)

    def delete_by_unique(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        entity = self._unique_from_query(params["type"], query, "attr:")
        return 200, self._delete([entity.guid])

    def _delete(self, guids: list[str]) -> Json:
        doomed: list[_Entity] = []
        pending = [g for g in guids if g in self._entities and self._entities[g].status == "ACTIVE"]
        while pending:
            entity = self._entities[pending.pop(0)]
            if entity in doomed:
                continue
            doomed.append(entity)
            pending += self._owned_children(entity)
        headers = [self._header(e) for e in doomed]
        for entity in doomed:
            for rel_guid in list(self._rels_by_end.get(entity.guid, ())):
                self._drop_rel(rel_guid)
            if self.delete_mode == "hard":
                del self._entities[entity.guid]
            else:
                entity.status = "DELETED"
                entity.version += 1
                entity.update_time = self._tick()
        for header in headers:
            header["status"] = "DELETED"
        return {"mutatedEntities": {"DELETE": headers}} if headers else {}

    def _owned_children(self, entity: _Entity) -> list[str]:
        children = []
        for rel_guid in list(self._rels_by_end.get(entity.guid, ())):
            rel = self._relationships[rel_guid]
            body = self._types.get(rel.type_name, (None, {}))[1]
            if body.get("relationshipCategory") != "COMPOSITION":
                continue
            if rel.end1 == entity.guid and body["endDef1"].get("isContainer"):
                children.append(rel.end2)
            elif rel.end2 == entity.guid and body["endDef2"].get("isContainer"):
                children.append(rel.end1)
        return children

    # ------------------------------------------------------------------ classifications

    def get_classifications(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        entity = self._active(params["guid"])
        found = [self._classification_json(entity, n) for n in sorted(entity.classifications)]
        return 200, {
            "list": found,
            "startIndex": 0,
            "pageSize": len(found),
            "totalCount": len(found),
            "sortType": "NONE",
        }

    def get_classification(self, params: Json, query: list, payload: Any) -> tuple[int, Json]:
        entity = self._active(params["guid"])
        if params["name"] not in entity.classifications:
            raise AtlasError("CLASSIFICATION_NOT_FOUND", params["name"])
        return 200, self._classification_json(entity, params["name"])

    def post_classifications(self, params: Json, query: list, payload: Any) -> tuple[int, None]:
        entity = self._active(params["guid"])
        items = _classification_list(payload)
        checked = [self._checked_classification(entity, c) for c in items]
        for name, _ in checked:
            if name in entity.classifications:
                raise AtlasError("CLASSIFICATION_ALREADY_ASSOCIATED", entity.guid, name)
        for (name, attributes), item in zip(checked, items, strict=True):
            entity.classifications[name] = attributes
            entity.propagate[name] = _propagate_flag(item, True)
        self._touch(entity)
        return 204, None

    def put_classifications(self, params: Json, query: list, payload: Any) -> tuple[int, None]:
        entity = self._active(params["guid"])
        items = _classification_list(payload)
        checked = [self._checked_classification(entity, c) for c in items]
        for (name, attributes), item in zip(checked, items, strict=True):
            if name not in entity.classifications:
                raise AtlasError("CLASSIFICATION_NOT_ASSOCIATED_WITH_ENTITY", name)
            entity.classifications[name].update(attributes)
            entity.propagate[name] = _propagate_flag(item, entity.propagate.get(name, True))
        self._touch(entity)
        return 204, None

    def delete_classification(self, params: Json, query: list, payload: Any) -> tuple[int, None]:
        entity = self._active(params["guid"])
        if params["name"] not in entity.classifications:
            raise AtlasError("CLASSIFICATION_NOT_FOUND", params["name"])
        del entity.classifications[params["name"]]
        entity.propagate.pop(params["name"], None)
        self._touch(entity)
        return 204, None

    def _checked_classification(self, entity: _Entity, classification: Any) -> tuple[str, Json]:
        if not isinstance(classification, Mapping) or not isinstance(classification.get("typeName"), str):
            raise AtlasError("INVALID_PARAMETERS", "a classification needs a typeName")
        name = classification["typeName"]
        found = self._system.classification(name)
        if found is None:
            raise AtlasError("CLASSIFICATION_NOT_FOUND", name)
        if found.allowed_types and not any(
            self._system.is_a(entity.type_name, t) for t in found.allowed_types
        ):
            raise AtlasError("INVALID_ENTITY_FOR_CLASSIFICATION", entity.guid, entity.type_name, name)
        problems = self._system.check_classification(entity.type_name, classification)
        attributes = dict(classification.get("attributes") or {})
        problems += _date_problems(found.attributes, attributes, f"classification '{name}'")
        _raise_value_problems(problems, entity.type_name)
        return name, _normalised(found.attributes, attributes)

    # ------------------------------------------------------------------ rendering

    def _entity_json(self, entity: _Entity, *, relationships: bool = True) -> Json:
        body: Json = {
            "typeName": entity.type_name,
            "guid": entity.guid,
            "status": entity.status,
            "isIncomplete": False,
            "createdBy": "admin",
            "updatedBy": "admin",
            "createTime": entity.create_time,
            "updateTime": entity.update_time,
            "version": entity.version,
            "attributes": self._attributes_view(entity),
        }
        if entity.collection is not None:
            body["collectionId"] = entity.collection
        if entity.contacts:
            body["contacts"] = entity.contacts
        if entity.business:
            body["businessAttributes"] = copy.deepcopy(entity.business)
        if relationships:
            body["relationshipAttributes"] = self._relationships_view(entity)
        shown = [self._classification_json(entity, n) for n in sorted(entity.classifications)]
        shown += [
            self._classification_json(self._entities[source], name, on=entity)
            for source, name in self._propagated_to(entity)
        ]
        if shown:
            body["classifications"] = shown
        body["labels"] = []
        return body

    def _attributes_view(self, entity: _Entity) -> Json:
        entity_type = self._entity_type(entity.type_name)
        view: Json = {}
        for name, attr in sorted(entity_type.attributes.items()):
            value = copy.deepcopy(entity.attributes.get(name))
            if name in PROCESS_IO and self._system.is_a(entity.type_name, "Process"):
                related = self._related(entity, PROCESS_IO[name][0], 1)
                value = [self._object_id(self._entities[g]) for g, _ in related]
            elif (
                isinstance(value, str)
                and _is_ref_type(self._system, attr.type_name)
                and value in self._entities
            ):
                value = self._object_id(self._entities[value])
            elif isinstance(value, list) and _is_ref_type(self._system, attr.type_name):
                value = [self._object_id(self._entities[g]) for g in value if g in self._entities]
            view[name] = value
        return view

    def _relationships_view(self, entity: _Entity) -> Json:
        view: Json = {}
        for name, end in sorted(self._system.relationship_ends(entity.type_name).items()):
            side = self._side(end.relationship_type, name, entity.type_name)
            related = [
                self._related_id(self._entities[g], end.relationship_type, rel)
                for g, rel in self._related(entity, end.relationship_type, side)
            ]
            view[name] = related if end.cardinality != "SINGLE" else (related[0] if related else None)
        if self._system.is_a(entity.type_name, "Process"):
            for name, (rel_type, _) in PROCESS_IO.items():
                view[name] = [
                    self._related_id(self._entities[g], rel_type, rel)
                    for g, rel in self._related(entity, rel_type, 1)
                ]
        if self._system.is_a(entity.type_name, "DataSet"):
            for inverse, (_, rel_type) in INVERSE_IO.items():
                view[inverse] = [
                    self._related_id(self._entities[g], rel_type, rel)
                    for g, rel in self._related(entity, rel_type, 2)
                ]
        return view

    def _add_rel(self, rel: _Relationship) -> None:
        self._relationships[rel.guid] = rel
        self._rels_by_end.setdefault(rel.end1, set()).add(rel.guid)
        self._rels_by_end.setdefault(rel.end2, set()).add(rel.guid)

    def _drop_rel(self, guid: str) -> None:
        rel = self._relationships.pop(guid, None)
        if rel is not None:
            self._rels_by_end.get(rel.end1, set()).discard(guid)
            self._rels_by_end.get(rel.end2, set()).discard(guid)

    def _related(self, entity: _Entity, rel_type: str, side: int) -> list[tuple[str, str]]:
        """(other guid, relationship guid) for ``entity`` at ``side`` of ``rel_type`` relationships."""
        found = []
        for rel_guid in self._rels_by_end.get(entity.guid, ()):
            rel = self._relationships[rel_guid]
            if rel.type_name != rel_type:
                continue
            if side == 1 and rel.end1 == entity.guid:
                found.append((rel.end2, rel.guid))
            elif side == 2 and rel.end2 == entity.guid:
                found.append((rel.end1, rel.guid))
        return sorted(found, key=lambda item: self._entities[item[0]].qualified_name)

    def _side(self, rel_type: str, attribute: str, entity_type: str) -> int:
        body = self._types[rel_type][1]
        end1 = body["endDef1"]
        if end1["name"] == attribute and self._system.is_a(entity_type, end1["type"]):
            return 1
        return 2

    def _neighbours(self, entity: _Entity) -> list[str]:
        guids = []
        for rel_guid in self._rels_by_end.get(entity.guid, ()):
            rel = self._relationships[rel_guid]
            if rel.end1 == entity.guid:
                guids.append(rel.end2)
            elif rel.end2 == entity.guid:
                guids.append(rel.end1)
        return sorted(set(guids))

    def _object_id(self, entity: _Entity) -> Json:
        return {
            "guid": entity.guid,
            "typeName": entity.type_name,
            "uniqueAttributes": {"qualifiedName": entity.qualified_name},
        }

    def _related_id(self, entity: _Entity, rel_type: str, rel_guid: str) -> Json:
        return {
            **self._object_id(entity),
            "entityStatus": entity.status,
            "displayText": entity.attributes.get("name") or entity.qualified_name,
            "relationshipType": rel_type,
            "relationshipGuid": rel_guid,
            "relationshipStatus": "ACTIVE",
            "relationshipAttributes": {"typeName": rel_type},
        }

    def _header(self, entity: _Entity) -> Json:
        return {
            "typeName": entity.type_name,
            "guid": entity.guid,
            "status": entity.status,
            "displayText": entity.attributes.get("name") or entity.qualified_name,
            "attributes": {"qualifiedName": entity.qualified_name, "name": entity.attributes.get("name")},
            "classificationNames": sorted(entity.classifications),
            "meaningNames": [],
            "labels": [],
            "isIncomplete": False,
        }

    def _propagated_to(self, entity: _Entity) -> list[tuple[str, str]]:
        """(source guid, classification name) of the classifications that reach ``entity``
        by propagation: from every upstream entity along lineage (see ``PROPAGATION``)."""
        found: list[tuple[str, str]] = []
        seen = {entity.guid}
        frontier = [entity]
        while frontier:
            upstream: list[_Entity] = []
            for node in frontier:
                if self._system.is_a(node.type_name, "Process"):  # its inputs feed it
                    others = [g for g, _ in self._related(node, PROCESS_IO["inputs"][0], 1)]
                elif self._system.is_a(node.type_name, "DataSet"):  # the processes that output it
                    others = [g for g, _ in self._related(node, PROCESS_IO["outputs"][0], 2)]
                else:
                    others = []
                for guid in others:
                    if guid not in seen and self._entities[guid].status == "ACTIVE":
                        seen.add(guid)
                        upstream.append(self._entities[guid])
            for source in upstream:
                found.extend(
                    (source.guid, name)
                    for name in sorted(source.classifications)
                    if source.propagate.get(name, True)
                )
            frontier = upstream
        return found

    def propagated(self, type_name: str, qualified_name: str) -> dict[str, list[str]]:
        """Classifications that reach an entity by propagation: name -> source qualifiedNames."""
        found = self._find(type_name, qualified_name, subtypes=False)
        out: dict[str, list[str]] = {}
        for source, name in self._propagated_to(found) if found else []:
            out.setdefault(name, []).append(self._entities[source].qualified_name)
        return {name: sorted(qns) for name, qns in sorted(out.items())}

    def _classification_json(self, entity: _Entity, name: str, *, on: _Entity | None = None) -> Json:
        """``entity``'s classification ``name``; ``on`` is the entity it propagated to, if any
        (the answer names the source in ``entityGuid`` either way, as Atlas does)."""
        return {
            "typeName": name,
            "attributes": copy.deepcopy(entity.classifications[name]),
            "entityGuid": entity.guid,
            "entityStatus": entity.status,
            "propagate": entity.propagate.get(name, True),
            "removePropagationsOnEntityDelete": False,
            "validityPeriods": [],
        }

    def _key_of(self, ref: Json) -> list[str]:
        return [ref["typeName"], ref["uniqueAttributes"]["qualifiedName"]]

    # ------------------------------------------------------------------ helpers

    def _entity_type(self, name: str) -> Any:
        found = self._system.entity_type(name)
        if found is None:
            raise AtlasError("TYPE_NAME_INVALID", "ENTITY", name)
        return found

    def _with_qn(self, qualified_name: str) -> Iterator[_Entity]:
        for guid in self._by_qn.get(qualified_name, ()):
            entity = self._entities.get(guid)
            if entity is not None and entity.qualified_name == qualified_name:
                yield entity

    def _find(self, type_name: str, qualified_name: str, *, subtypes: bool = True) -> _Entity | None:
        for entity in self._with_qn(qualified_name):
            if entity.status != "ACTIVE":
                continue
            if entity.type_name == type_name or (subtypes and self._system.is_a(entity.type_name, type_name)):
                return entity
        return None

    def _active(self, guid: str) -> _Entity:
        entity = self._entities.get(guid)
        if entity is None or entity.status != "ACTIVE":
            raise AtlasError("INSTANCE_GUID_NOT_FOUND", guid)
        return entity

    def _touch(self, entity: _Entity) -> None:
        entity.version += 1
        entity.update_time = self._tick()

    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    def _new_guid(self) -> str:
        return str(uuid.UUID(int=self._guid_rng.getrandbits(128), version=4))


# --------------------------------------------------------------------------- bulk write


class _BulkWrite:
    """One POST /entity/bulk: validate and resolve everything first, then write (all or nothing)."""

    def __init__(self, fake: FakeAtlas, items: list[Any], replace_classifications: bool, *, business: str):
        self.fake = fake
        self.items = items
        self.replace = replace_classifications
        self.business = business
        """What an update does with businessAttributes: ignore, merge or replace."""
        self.assigned: dict[str, str] = {}  # payload guid -> real guid
        self.existing: dict[str, _Entity | None] = {}  # payload guid -> stored entity (None: create)

    def run(self) -> Json:
        fake = self.fake
        system = fake._system
        keyed: dict[Key, str] = {}
        for n, item in enumerate(self.items):
            if not isinstance(item, Mapping):
                raise AtlasError("INVALID_PARAMETERS", "found null entity")
            type_name = item.get("typeName")
            entity_type = fake._entity_type(str(type_name))
            guid = item.get("guid") or f"-{n + 1}"
            if not isinstance(guid, str) or not _valid_guid(guid):
                raise AtlasError("INVALID_OBJECT_ID", f"invalid guid {guid}")
            problems = system.check_entity({k: v for k, v in item.items() if k != "classifications"})
            attributes = item.get("attributes") or {}
            problems += _date_problems(entity_type.attributes, attributes, str(type_name))
            _raise_value_problems(problems, str(type_name))
            qn = attributes["qualifiedName"]
            if (str(type_name), qn) in fake._refusals:
                key, args = fake._refusals[(str(type_name), qn)]
                raise AtlasError(key, *args)
            if guid.startswith("-"):
                stored = fake._find(str(type_name), qn)
                if stored is None and (str(type_name), qn) in keyed:
                    raise AtlasError("INSTANCE_ALREADY_EXISTS", f"{type_name} {qn} appears twice")
                clash = next((e for e in fake._with_qn(qn) if e.status == "ACTIVE"), None)
                if stored is None and clash is not None:
                    raise AtlasError(
                        "INSTANCE_ALREADY_EXISTS", f"qualifiedName {qn} is taken by a {clash.type_name}"
                    )
            else:
                stored = fake._entities.get(guid)
                if stored is None or stored.status != "ACTIVE":
                    raise AtlasError("REFERENCED_ENTITY_NOT_FOUND", guid)
                if stored.type_name != type_name:
                    raise AtlasError(
                        "INVALID_PARAMETERS", f"{guid} is a {stored.type_name}, not a {type_name}"
                    )
            keyed[(str(type_name), qn)] = guid
            self.existing[guid] = stored
            self.assigned[guid] = stored.guid if stored else fake._new_guid()
        plans = [self._plan(item, f"-{n + 1}") for n, item in enumerate(self.items)]
        return self._apply(plans)

    def _resolve(self, ref: Any, expected: str, attribute: str) -> str:
        fake = self.fake
        guid = ref.get("guid") if isinstance(ref, Mapping) else None
        if guid:
            if guid in self.assigned:
                target = self.assigned[guid]
                payload_type = next(
                    (
                        i.get("typeName")
                        for n, i in enumerate(self.items)
                        if (i.get("guid") or f"-{n + 1}") == guid
                    ),
                    None,
                )
                type_name = payload_type or fake._entities[target].type_name
            elif guid in fake._entities and fake._entities[guid].status == "ACTIVE":
                target, type_name = guid, fake._entities[guid].type_name
            else:
                raise AtlasError("REFERENCED_ENTITY_NOT_FOUND", guid)
        else:
            # Atlas resolves uniqueAttributes references against the catalog only, never
            # against other entities of the same request (UniqAttrBasedEntityResolver).
            unique = ref.get("uniqueAttributes") or {}
            stored = fake._find(str(ref.get("typeName")), str(unique.get("qualifiedName")))
            if stored is None:
                described = f"{{typeName={ref.get('typeName')}, uniqueAttributes={dict(unique)}}}"
                raise AtlasError("REFERENCED_ENTITY_NOT_FOUND", described)
            target, type_name = stored.guid, stored.type_name
        if not fake._system.is_a(str(type_name), expected):
            raise AtlasError("RELATIONSHIP_INVALID_ENDTYPE", attribute, target, type_name, expected)
        return target

    def _plan(self, item: Mapping[str, Any], fallback_guid: str) -> Json:
        fake = self.fake
        system = fake._system
        guid = item.get("guid") or fallback_guid
        type_name = item["typeName"]
        entity_type = system.entity_type(type_name)
        attributes: Json = {}
        links: dict[tuple[str, int], list[str]] = {}
        for name, value in (item.get("attributes") or {}).items():
            attr = entity_type.attributes[name]
            if name in PROCESS_IO and system.is_a(type_name, "Process"):
                refs = value or []
                links[(PROCESS_IO[name][0], 1)] = [self._resolve(r, "DataSet", name) for r in refs]
            elif _is_ref_type(system, attr.type_name) and value is not None:
                target_type = attr.type_ref.element.name if attr.type_ref.element else attr.type_ref.name
                if isinstance(value, list):
                    attributes[name] = [self._resolve(r, target_type, name) for r in value]
                else:
                    attributes[name] = self._resolve(value, target_type, name)
            else:
                attributes[name] = value
        attributes = _normalised(entity_type.attributes, attributes)
        ends = system.relationship_ends(type_name)
        for name, value in (item.get("relationshipAttributes") or {}).items():
            end = ends[name]
            side = fake._side(end.relationship_type, name, type_name)
            refs = [] if value is None else (value if isinstance(value, list) else [value])
            links[(end.relationship_type, side)] = [self._resolve(r, end.end_type, name) for r in refs]
        stored = self.existing[guid]
        classifications = None
        propagate: dict[str, bool] = {}
        if stored is None or self.replace:
            classifications = {}
            probe = stored or _Entity(self.assigned[guid], type_name, {})
            for c in item.get("classifications") or []:
                name, attrs = fake._checked_classification(probe, c)
                classifications[name] = attrs
                propagate[name] = _propagate_flag(c, True)
        return {
            "guid": guid,
            "type": type_name,
            "attributes": attributes,
            "links": links,
            "classifications": classifications,
            "propagate": propagate,
            "contacts": _checked_contacts(item["contacts"]) if fake._purview and "contacts" in item else None,
            "business": item.get("businessAttributes"),
        }

    def _apply(self, plans: list[Json]) -> Json:
        fake = self.fake
        created: list[_Entity] = []
        updated: list[_Entity] = []
        for plan in plans:
            stored = self.existing[plan["guid"]]
            if stored is None:
                now = fake._tick()
                entity = _Entity(
                    self.assigned[plan["guid"]],
                    plan["type"],
                    dict(plan["attributes"]),
                    version=0,
                    create_time=now,
                    update_time=now,
                )
                fake._entities[entity.guid] = entity
                fake._by_qn.setdefault(entity.qualified_name, []).append(entity.guid)
                created.append(entity)
                plan["entity"] = entity
            else:
                plan["before"] = _signature(fake, stored)
                stored.attributes.update(plan["attributes"])
                plan["entity"] = stored
        for plan in plans:
            entity = plan["entity"]
            for (rel_type, side), targets in plan["links"].items():
                self._link(entity, rel_type, side, targets)
            if plan["classifications"] is not None:
                entity.classifications = plan["classifications"]
                entity.propagate = plan["propagate"]
            if plan.get("contacts") is not None:
                entity.contacts = plan["contacts"]
            if plan["business"] is not None:
                behaviour = self.business if "before" in plan else "replace"
                if behaviour != "ignore":
                    _merge_business(entity, plan["business"], behaviour)
        for plan in plans:
            if "before" in plan and _signature(fake, plan["entity"]) != plan["before"]:
                fake._touch(plan["entity"])
                if plan["entity"] not in updated:
                    updated.append(plan["entity"])
        mutated: Json = {}
        if created:
            mutated["CREATE"] = [fake._header(e) for e in created]
        if updated:
            mutated["UPDATE"] = [fake._header(e) for e in updated]
        response: Json = {"guidAssignments": {p["guid"]: p["entity"].guid for p in plans}}
        if mutated:
            response["mutatedEntities"] = mutated
        return response

    def _link(self, entity: _Entity, rel_type: str, side: int, targets: list[str]) -> None:
        fake = self.fake
        current = {other: rel for other, rel in fake._related(entity, rel_type, side)}
        for other, rel in current.items():
            if other not in targets:
                fake._drop_rel(rel)
        body = fake._types.get(rel_type, (None, {}))[1]
        for target in targets:
            if target in current:
                continue
            end1, end2 = (entity.guid, target) if side == 1 else (target, entity.guid)
            # the other side of a SINGLE end has one partner: a new one replaces the old
            other_end = body.get("endDef2" if side == 1 else "endDef1") or {}
            if other_end.get("cardinality", "SET") == "SINGLE":
                for rel_guid in list(fake._rels_by_end.get(target, ())):
                    rel = fake._relationships[rel_guid]
                    if rel.type_name == rel_type and (rel.end2 if side == 1 else rel.end1) == target:
                        fake._drop_rel(rel.guid)
            fake._add_rel(_Relationship(fake._new_guid(), rel_type, end1, end2))


# --------------------------------------------------------------------------- routing and values

_ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/types/typedefs", "get_typedefs"),
    ("GET", "/types/typedefs/headers", "get_headers"),
    ("POST", "/types/typedefs", "post_typedefs"),
    ("PUT", "/types/typedefs", "put_typedefs"),
    ("GET", "/types/typedef/name/{name}", "get_typedef"),
    ("DELETE", "/types/typedef/name/{name}", "delete_typedef"),
    ("GET", "/types/entitydef/name/{name}", "get_typedef"),
    ("GET", "/types/relationshipdef/name/{name}", "get_typedef"),
    ("GET", "/types/classificationdef/name/{name}", "get_typedef"),
    ("GET", "/types/structdef/name/{name}", "get_typedef"),
    ("GET", "/types/enumdef/name/{name}", "get_typedef"),
    ("POST", "/entity/bulk", "post_bulk"),
    ("POST", "/entity", "post_entity"),
    ("GET", "/entity/bulk", "get_entities"),
    ("DELETE", "/entity/bulk", "delete_entities"),
    ("GET", "/entity/bulk/uniqueAttribute/type/{type}", "get_bulk_by_unique"),
    ("GET", "/entity/uniqueAttribute/type/{type}", "get_by_unique"),
    ("DELETE", "/entity/uniqueAttribute/type/{type}", "delete_by_unique"),
    ("GET", "/entity/guid/{guid}", "get_entity"),
    ("DELETE", "/entity/guid/{guid}", "delete_entity"),
    ("POST", "/entity/moveTo", "post_move_to"),
    ("GET", "/entity/guid/{guid}/classifications", "get_classifications"),
    ("POST", "/entity/guid/{guid}/businessmetadata", "post_business_metadata"),
    ("POST", "/entity/guid/{guid}/classifications", "post_classifications"),
    ("PUT", "/entity/guid/{guid}/classifications", "put_classifications"),
    ("GET", "/entity/guid/{guid}/classification/{name}", "get_classification"),
    ("POST", "/search/basic", "post_search_basic"),
    ("DELETE", "/entity/guid/{guid}/classification/{name}", "delete_classification"),
]
_COMPILED = [
    (
        method,
        template,
        handler,
        re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "/?$"),
    )
    for method, template, handler in _ROUTES
]


def _route(method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
    for route_method, template, handler, pattern in _COMPILED:
        match = pattern.match(path)
        if route_method == method and match:
            params = dict(match.groupdict())
            kind = [*template.split("/"), "", "", ""][2]
            if kind.endswith("def") and kind != "typedef":
                params["category"] = kind[: -len("def")].upper()
            return template, handler, params
    return None


class _AzureError(AtlasError):
    """A Purview answer in Azure's error envelope ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str):
        Exception.__init__(self, f"{code}: {message}")
        self.key, self.status, self.code, self.message = code, status, code, message

    def body(self) -> dict[str, Any]:  # type: ignore[override]
        return {"error": {"code": self.code, "message": self.message}}


class _Meter:
    """Purview's operations meter: ``rate`` operations a second (25 per capacity unit),
    over a one-second token bucket; a call that finds the bucket short is answered 429
    with ``Retry-After`` (whole seconds) and charges nothing."""

    def __init__(self, rate: float, clock: Any):
        self.rate, self.clock = rate, clock
        self.tokens, self.at = rate, clock()

    def charge(self, operations: int) -> float | None:
        now = self.clock()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        need = min(operations, self.rate)  # a call bigger than a second's worth waits for a full bucket
        if self.tokens + 1e-9 < need:
            return (need - self.tokens) / self.rate
        self.tokens -= operations
        return None


def _metered_operations(request: requests.PreparedRequest) -> int:
    """Entities, classifications, relationships and business metadata a call carries count
    one each."""
    try:
        payload = json.loads(request.body) if request.body else None
    except (ValueError, TypeError):
        return 1
    if isinstance(payload, Mapping) and isinstance(payload.get("entities"), list):
        count = 0
        for entity in payload["entities"]:
            count += 1
            if isinstance(entity, Mapping):
                count += len(entity.get("classifications") or [])
                count += int(bool(entity.get("businessAttributes")))
                for value in (entity.get("relationshipAttributes") or {}).values():
                    count += len(value) if isinstance(value, list) else int(value is not None)
        return max(1, count)
    return max(1, len(payload)) if isinstance(payload, list) else 1


def _error(error: AtlasError) -> tuple[int, dict[str, str], str]:
    return error.status, {"Content-Type": "application/json"}, json.dumps(error.body())


def _typedef_payload(payload: Any) -> dict[str, list[Json]]:
    if not isinstance(payload, Mapping):
        raise AtlasError("INVALID_PARAMETERS", "a typedefs document is expected")
    extra = [k for k, v in payload.items() if k not in SECTIONS and v and k != "businessMetadataDefs"]
    if extra:
        raise AtlasError("INVALID_PARAMETERS", f"unknown sections {extra}")
    return {section: list(payload.get(section) or []) for section in SECTIONS}


def _classification_list(payload: Any) -> list[Any]:
    if not isinstance(payload, list) or not payload:
        raise AtlasError("INVALID_PARAMETERS", "classifications not specified")
    return payload


def _raise_value_problems(problems: list[str], type_name: str) -> None:
    for problem in problems:
        if "not defined" in problem:
            name = re.search(r"'([^']+)'", problem)
            raise AtlasError("UNKNOWN_ATTRIBUTE", name.group(1) if name else problem, type_name)
        if "which is not a" in problem:
            raise AtlasError("INVALID_PARAMETERS", problem)
        if problem.startswith("unknown classification"):
            raise AtlasError("CLASSIFICATION_NOT_FOUND", problem.split("'")[1])
        if "cannot be applied" in problem:
            raise AtlasError("INVALID_PARAMETERS", problem)
    if problems:
        raise AtlasError("INSTANCE_CRUD_INVALID_PARAMS", problems)


def _date_problems(defs: Mapping[str, Any], values: Mapping[str, Any], where: str) -> list[str]:
    """Atlas reads a date as epoch milliseconds or text in yyyy-MM-dd'T'HH:mm:ss.SSS'Z' only."""
    problems = []
    for name, value in values.items():
        attr = defs.get(name)
        is_date_text = attr is not None and attr.type_name == "date" and isinstance(value, str)
        if is_date_text and not (_DATE.match(value) or value.lstrip("-").isdigit()):
            problems.append(
                f"{where}.{name}: invalid date {value!r} (Atlas wants epoch millis or "
                "yyyy-MM-ddTHH:mm:ss.SSSZ)"
            )
    return problems


def _normalised(defs: Mapping[str, Any], values: Mapping[str, Any]) -> Json:
    """Values as Atlas stores and returns them: dates as epoch milliseconds."""
    out = {}
    for name, value in values.items():
        attr = defs.get(name)
        if attr is not None and attr.type_name == "date" and isinstance(value, str):
            value = int(value) if value.lstrip("-").isdigit() else _epoch_millis(value)
        out[name] = copy.deepcopy(value)
    return out


def _epoch_millis(text: str) -> int:
    from datetime import datetime, timezone

    stamp = datetime.strptime(_DATE.match(text).group(0), "%Y-%m-%dT%H:%M:%S.%fZ")  # type: ignore[union-attr]
    return int(stamp.replace(tzinfo=timezone.utc).timestamp() * 1000)


def _is_ref_type(system: TypeSystem, type_name: str) -> bool:
    inner = re.fullmatch(r"array<(.+)>", type_name)
    return system.entity_type(inner.group(1) if inner else type_name) is not None


def _valid_guid(guid: str) -> bool:
    if re.fullmatch(r"-\d+", guid):
        return True
    try:
        uuid.UUID(guid)
    except ValueError:
        return False
    return True


CONTACT_ROLES = ("Owner", "Expert")
"""Purview's contact roles on an entity: ``AtlasEntity.Contacts`` is a dictionary "Expert" or
"Owner" -> lists of ``ContactInfo`` ``{id, info}``, ``id`` the contact's GUID
(https://learn.microsoft.com/dotnet/api/azure.analytics.purview.datamap.atlasentity.contacts,
https://learn.microsoft.com/javascript/api/@azure-rest/purview-datamap/contactsearchresultvalueoutput)."""
OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _checked_contacts(contacts: Any) -> Json:
    if not isinstance(contacts, Mapping):
        raise AtlasError("BAD_REQUEST", "contacts must be an object of contact lists by role")
    for role, listed in contacts.items():
        if role not in CONTACT_ROLES:
            raise AtlasError("BAD_REQUEST", f"unknown contact type {role}")
        for contact in listed if isinstance(listed, list) else [listed]:
            if not isinstance(contact, Mapping) or not OBJECT_ID.match(str(contact.get("id", ""))):
                raise AtlasError("BAD_REQUEST", f"contact id {contact!r} is not an Entra object id")
    return {role: [dict(c) for c in listed] for role, listed in contacts.items()}


def _propagate_flag(classification: Any, default: bool) -> bool:
    value = classification.get("propagate") if isinstance(classification, Mapping) else None
    return default if value is None else bool(value)


def _merge_business(entity: _Entity, values: Mapping[str, Any], behaviour: str) -> None:
    """Write business metadata: ``replace`` sets the entity's to ``values`` alone, ``merge``
    changes only the attributes given (a null removes one)."""
    if behaviour == "replace":
        entity.business = {}
    for group, attributes in values.items():
        held = entity.business.setdefault(group, {})
        for name, value in (attributes or {}).items():
            if value is None:
                held.pop(name, None)
            else:
                held[name] = copy.deepcopy(value)
        if not held:
            del entity.business[group]


def _signature(fake: FakeAtlas, entity: _Entity) -> str:
    view = {
        "attributes": fake._attributes_view(entity),
        "relationships": fake._relationships_view(entity),
        "classifications": entity.classifications,
        "business": entity.business,
    }
    return json.dumps(_strip_guids(view, fake), sort_keys=True, default=str)


def _strip_guids(value: Any, fake: FakeAtlas) -> Any:
    """Replace object ids by [typeName, qualifiedName] so states compare across guid assignments."""
    if isinstance(value, Mapping):
        if "uniqueAttributes" in value and "typeName" in value:
            return [value["typeName"], value["uniqueAttributes"].get("qualifiedName")]
        return {k: _strip_guids(v, fake) for k, v in value.items() if k not in ("relationshipGuid", "guid")}
    if isinstance(value, list):
        return [_strip_guids(v, fake) for v in value]
    return value


def _canonical_def(body: Mapping[str, Any]) -> Json:
    return {k: v for k, v in body.items() if k not in ("guid", "version", "createTime", "updateTime")}


def iter_entities(response: Any) -> Iterator[Json]:
    """The entities of an AtlasEntityWithExtInfo / AtlasEntitiesWithExtInfo answer."""
    if isinstance(response, Mapping):
        if "entity" in response:
            yield response["entity"]
        yield from response.get("entities") or []


def _snapshot(value: Any) -> Any:
    """A deep copy of the fake's state, for rolling back a refused write: through pickle,
    ten times ``copy.deepcopy`` on a catalog of 400,000 entities, where a copy before each
    write made a bench's fake slower than the scan it serves."""
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

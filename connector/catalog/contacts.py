"""Owners and experts for Purview: e-mail addresses / UPNs -> Entra object ids.

Purview shows an asset's owners and experts from the entity's ``contacts``
(``{"Owner": [{"id": OBJECT_ID, "info": TEXT}], "Expert": [...]}``), which hold Entra
object ids, not names. featmesh keeps the readable ``owner`` attribute everywhere and,
on Purview, adds the contacts it can resolve:

- first from the configuration (``catalog.owners: {address: object-id}``), for tenants
  where featmesh may not call Microsoft Graph;
- then, unless ``catalog.owner_lookup: config``, from Microsoft Graph:
  ``GET {graph}/v1.0/users/{upn}`` answers the user resource, whose ``id`` is the
  object id; an unknown user is ``404`` with ``{"error": {"code":
  "Request_ResourceNotFound", ...}}`` (https://learn.microsoft.com/graph/api/user-get,
  https://learn.microsoft.com/graph/errors). The token is the same azure-identity
  credential's, for ``{graph}/.default``; the Graph host follows the Data Map host's cloud
  (https://learn.microsoft.com/graph/deployments: ``graph.microsoft.com``,
  ``graph.microsoft.us`` for US Government L4, ``microsoftgraph.chinacloudapi.cn`` for
  Azure China).

Each address is looked up once a run. One that resolves nowhere is reported (a warning of
the run), and the entity is written without that contact: never a failure.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

import requests

GRAPH = "https://graph.microsoft.com"
SOVEREIGN_GRAPH = {
    ".purview.azure.cn": "https://microsoftgraph.chinacloudapi.cn",
    ".purview.azure.us": "https://graph.microsoft.us",
}
GRAPH_TIMEOUT = 30.0
ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
SEPARATORS = re.compile(r"[,;\s]+")
EXPERT_TAGS = ("experts", "expert")
"""Tags naming a set's experts (addresses separated by commas)."""


def graph_root(data_map_host: str) -> str:
    """Microsoft Graph's service root in the cloud of a Data Map host."""
    name = data_map_host.rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")
    for suffix, root in SOVEREIGN_GRAPH.items():
        if name.endswith(suffix):
            return root
    return GRAPH


def user_path(upn: str) -> str:
    """Graph's path to a user by UPN: ``users/{upn}``, ``#`` of a B2B UPN encoded; a UPN
    starting with ``$`` as ``users('{upn}')``, since OData reserves a leading ``$`` for
    system query options (https://learn.microsoft.com/graph/api/user-get, HTTP request tips)."""
    if upn.startswith("$"):
        return "users('" + quote(upn.replace("'", "''"), safe="@$'") + "')"
    return f"users/{quote(upn, safe='@')}"


def addresses(text: Any) -> list[str]:
    """The e-mail addresses / UPNs in a free-text owner ("a@x.com, b@x.com")."""
    if not isinstance(text, str):
        return []
    found = [part.strip("<>()") for part in SEPARATORS.split(text)]
    return list(dict.fromkeys(p.lower() for p in found if ADDRESS.match(p)))


class OwnerDirectory:
    """Resolves addresses to Entra object ids: the config mapping, then Graph; cached."""

    def __init__(
        self,
        mapping: Mapping[str, str] | None = None,
        *,
        graph: str | None = GRAPH,
        token: Callable[[str], str] | None = None,
        session: requests.Session | None = None,
    ):
        self.mapping = {k.strip().lower(): str(v) for k, v in (mapping or {}).items()}
        self.graph = graph.rstrip("/") if graph and token is not None else None
        self._token = token
        self._session = session or requests.Session()
        self._cache: dict[str, str | None] = {}
        self.unresolved: dict[str, str] = {}
        """address -> why it resolved to no object id."""
        self.lookups = 0

    def resolve(self, address: str) -> str | None:
        key = address.strip().lower()
        if key in self._cache:
            return self._cache[key]
        found = self.mapping.get(key)
        if found is None:
            found = self._graph(key)
        self._cache[key] = found
        return found

    def _graph(self, address: str) -> str | None:
        if self.graph is None or self._token is None:
            self.unresolved[address] = "not in catalog.owners (Graph lookups are off)"
            return None
        self.lookups += 1
        url = f"{self.graph}/v1.0/{user_path(address)}"
        try:
            headers = {"Authorization": f"Bearer {self._token(f'{self.graph}/.default')}"}
            response = self._session.get(
                url, headers=headers, params={"$select": "id,userPrincipalName"}, timeout=GRAPH_TIMEOUT
            )
        except Exception as err:  # a token or network failure: this owner stays unresolved
            self.unresolved[address] = f"Microsoft Graph not reachable ({type(err).__name__})"
            return None
        if response.status_code == 200:
            try:
                object_id = response.json().get("id")
            except ValueError:
                object_id = None
            if isinstance(object_id, str) and object_id:
                return object_id
            self.unresolved[address] = "Microsoft Graph answered a user without an id"
            return None
        code = ""
        with contextlib.suppress(ValueError, AttributeError):
            code = str((response.json().get("error") or {}).get("code") or "")
        status = response.status_code
        if status == 404:
            why = f"no such user in the tenant (Microsoft Graph: 404 {code or 'Not Found'})"
        else:
            why = f"Microsoft Graph: HTTP {status} {code}".rstrip()
            if status == 403:
                why += " (the principal needs the User.Read.All application permission)"
        self.unresolved[address] = why
        return None

    def contacts(self, attributes: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        """Purview ``contacts`` for an entity's ``owner`` attribute and expert tags."""
        tags = attributes.get("tags") or {}
        experts: list[str] = []
        if isinstance(tags, Mapping):
            for name in EXPERT_TAGS:
                experts.extend(addresses(tags.get(name)))
        out: dict[str, list[dict[str, str]]] = {}
        for role, found in (("Owner", addresses(attributes.get("owner"))), ("Expert", experts)):
            listed = self._listed(found)
            if listed:
                out[role] = listed
        return out

    def _listed(self, found: Iterable[str]) -> list[dict[str, str]]:
        listed = []
        for address in dict.fromkeys(found):
            object_id = self.resolve(address)
            if object_id:
                listed.append({"id": object_id, "info": address})
        return listed

    def warnings(self) -> list[str]:
        return [
            f"owner {address} is not shown as a Purview contact: {why}"
            for address, why in sorted(self.unresolved.items())
        ]


def merged_contacts(
    resolved: Mapping[str, list[dict[str, str]]], held: Mapping[str, Any] | None
) -> dict[str, list[dict[str, str]]]:
    """The contacts to write: those the catalog holds (a steward's, added in Purview's UI,
    stay), then each resolved one it lacks, by role and object id."""
    out: dict[str, list[dict[str, str]]] = {
        role: [dict(c) for c in listed if isinstance(c, Mapping)]
        for role, listed in (held or {}).items()
        if isinstance(listed, list)
    }
    for role, listed in resolved.items():
        have = {c.get("id") for c in out.get(role, [])}
        for contact in listed:
            if contact["id"] not in have:
                out.setdefault(role, []).append(dict(contact))
                have.add(contact["id"])
    return {role: listed for role, listed in out.items() if listed}


def lacks_contacts(held: Mapping[str, Any] | None, resolved: Mapping[str, list[dict[str, str]]]) -> bool:
    """Whether the catalog misses one of the resolved contacts (by role and object id)."""
    for role, listed in resolved.items():
        have = (held or {}).get(role)
        ids = {c.get("id") for c in have if isinstance(c, Mapping)} if isinstance(have, list) else set()
        if any(contact["id"] not in ids for contact in listed):
            return True
    return False

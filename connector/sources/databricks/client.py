"""A small Databricks REST client: bearer auth, retries, pagination, clear errors.

Errors name the host, the API path and the environment variable to check, never the
token. Transient failures (429, 5xx, connection errors) are retried through
:mod:`connector.http`; what remains becomes a :class:`SourceError`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from featmesh.connector.errors import SourceError
from featmesh.connector.http import RetryPolicy, call_with_retry

PAGE_SIZE = 100
MAX_PAGES = 10_000
"""A ceiling on pages per listing, so a server that keeps handing out tokens cannot
hold a scan forever."""


class NotFound(SourceError):
    """The API answered 404: the object or the API itself does not exist here."""


@dataclass(frozen=True, kw_only=True)
class Client:
    """Calls one workspace's REST API. ``token`` is asked for at every call, so a
    token taken from the environment or refreshed by azure-identity is always current."""

    base_url: str
    token: Callable[[], str]
    credential_hint: str
    """What to check when the workspace refuses the credentials (names, never values)."""
    session: requests.Session = field(default_factory=requests.Session)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[-1]

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path`` and return its JSON object."""
        url = self.base_url + path
        where = f"{self.host}{path}"

        def call() -> requests.Response:
            headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
            return self.session.get(url, params=params, headers=headers, timeout=self.timeout)

        try:
            response = call_with_retry(call, policy=self.policy, what=f"GET {where}", sleep=self.sleep)
        except requests.RequestException as err:
            raise SourceError(f"{where}: cannot reach the workspace ({type(err).__name__})") from None
        self._check_status(response, where)
        try:
            body = response.json()
        except (json.JSONDecodeError, ValueError) as err:
            raise SourceError(f"{where}: the response is not valid JSON ({_brief(err)})") from None
        if not isinstance(body, dict):
            raise SourceError(f"{where}: expected a JSON object, got {type(body).__name__}")
        return body

    def pages(
        self, path: str, items: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item under key ``items`` across all pages (``next_page_token``)."""
        query = {"max_results": PAGE_SIZE, **(params or {})}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body = self.get(path, query)
            listed = body.get(items) or []
            if not isinstance(listed, list):
                raise SourceError(f"{self.host}{path}: '{items}' is not a list")
            yield from (item for item in listed if isinstance(item, dict))
            token = body.get("next_page_token")
            if not token:
                return
            if token in seen:
                raise SourceError(f"{self.host}{path}: the server repeated a page token")
            seen.add(token)
            query = {**query, "page_token": token}
        raise SourceError(f"{self.host}{path}: more than {MAX_PAGES} pages")

    def _check_status(self, response: requests.Response, where: str) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in (401, 403):
            verb = "rejected the credentials" if status == 401 else "denied access"
            raise SourceError(f"{where}: the workspace {verb} (HTTP {status}); {self.credential_hint}")
        code = _error_code(response)
        if status == 404:
            raise NotFound(f"{where}: not found (HTTP 404{code})")
        raise SourceError(f"{where}: HTTP {status}{code}")


def _error_code(response: requests.Response) -> str:
    """Databricks's ``error_code`` (e.g. RESOURCE_DOES_NOT_EXIST), if the body has one."""
    try:
        body = response.json()
    except ValueError:
        return ""
    code = body.get("error_code") if isinstance(body, dict) else None
    return f", {code}" if isinstance(code, str) and code.isupper() and len(code) < 80 else ""


def _brief(err: Exception) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"line {err.lineno} column {err.colno}: {err.msg}"
    return type(err).__name__

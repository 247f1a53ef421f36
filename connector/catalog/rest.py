"""HTTP to an Atlas v2 REST endpoint (Apache Atlas, or Purview's Data Map), with retries.

featmesh builds entities with pyapacheatlas's classes and authenticates with its auth
objects, but sends requests through its own ``requests.Session``: pyapacheatlas calls
module-level ``requests`` functions with no retry, and on an error that is not an Atlas
``errorCode`` body it raises a new exception without the response, so neither the
status nor ``Retry-After`` of a throttled call can be seen there.

Every call is retried on 429, 5xx and connection errors (``connector.http``). Errors
become :class:`CatalogError` carrying the status and Atlas's ``errorCode``; messages
name the method and path, never a header, so no credential can leak into them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from featmesh.connector.errors import CatalogError, UsageError
from featmesh.connector.http import RetryPolicy, call_with_retry, unreachable

log = logging.getLogger(__name__)

HeadersFn = Callable[[], Mapping[str, str]]

DEFAULT_RETRY = RetryPolicy(max_attempts=8, base_delay=1.0, max_delay=60.0, deadline=300.0)
"""Purview throttles at about 25 operations per second per capacity unit: eight tries
over up to five minutes ride out a burst of 429s without hiding a real outage."""


@dataclass
class RequestLog:
    """Counts of requests sent, by method and by kind (``write`` / ``read``)."""

    total: int = 0
    writes: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)

    def add(self, method: str, path: str) -> None:
        self.total += 1
        if method != "GET" and "/search/" not in path:
            self.writes += 1
        key = f"{method} {path.split('?', 1)[0]}"
        self.by_endpoint[key] = self.by_endpoint.get(key, 0) + 1


class AtlasRest:
    """A thin Atlas v2 REST client: JSON in, JSON out, retried, counted."""

    def __init__(
        self,
        endpoint: str,
        headers: HeadersFn,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        sleep: Callable[[float], None] | None = None,
        deadline: float | None = None,
        clock: Callable[[], float] | None = None,
    ):
        """``deadline`` (seconds; default the retry policy's) bounds the time this client
        spends waiting to retry, over all its calls: a run never waits longer."""
        self.endpoint = endpoint.rstrip("/")
        self._headers = headers
        self.retry = retry or DEFAULT_RETRY
        if deadline is not None and deadline <= 0:
            raise UsageError(f"catalog timeout must be a positive number of seconds, not {deadline:g}")
        self._deadline = deadline
        self.retry_waited = 0.0
        """Seconds spent waiting to retry so far."""
        self._clock = clock
        self.timeout = timeout
        self.session = requests.Session()
        self.log = RequestLog()
        self._sleep = sleep
        self.pacer: TokenBucket | None = None

    @property
    def deadline(self) -> float:
        """Seconds this client may spend waiting to retry, over all its calls."""
        return self.retry.deadline if self._deadline is None else self._deadline

    def pace(self, operations_per_second: float, *, clock: Callable[[], float] | None = None) -> None:
        """Send no more than ``operations_per_second`` catalog operations a second
        (see :func:`operations`); unpaced until called."""
        self.pacer = TokenBucket(operations_per_second, clock=clock, sleep=self._sleep or _sleep)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        body: Any = None,
        allow: tuple[int, ...] = (),
    ) -> Any:
        """Send one request; return the parsed JSON body (None when empty).

        Statuses in ``allow`` are returned as ``{"_status": code, ...body}`` instead of
        raising, for calls where a 404 or 409 is an answer rather than a failure.
        """
        url = f"{self.endpoint}{path}"
        what = f"{method} {path.split('?', 1)[0]}"

        cost = operations(method, path, params, body)

        def send() -> requests.Response:
            if self.pacer is not None:
                self.pacer.take(cost)
            self.log.add(method, path)
            headers = {"Content-Type": "application/json", "Accept": "application/json", **self._headers()}
            return self.session.request(
                method,
                url,
                params=params,
                data=json.dumps(body) if body is not None else None,
                headers=headers,
                timeout=self.timeout,
            )

        def wait(seconds: float) -> None:
            self.retry_waited += seconds
            (self._sleep or _sleep)(seconds)

        try:
            response = call_with_retry(
                send,
                policy=self.retry,
                what=what,
                sleep=wait,
                clock=self._clock or _monotonic,
                deadline=max(0.0, self.deadline - self.retry_waited),
                give_up=lambda message: CatalogError(message),
            )
        except requests.RequestException as err:
            cause = unreachable(err)
            if cause is not None:
                parts = urlsplit(url)  # the host and port only: never userinfo
                host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
                raise CatalogError(f"{what}: cannot reach the catalog at {host}: {cause}") from None
            raise CatalogError(f"{what}: {type(err).__name__}: no answer from the catalog") from None
        return self._parse(response, what, allow)

    @staticmethod
    def _parse(response: requests.Response, what: str, allow: tuple[int, ...]) -> Any:
        status = response.status_code
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
            if status < 400:
                raise CatalogError(
                    f"{what}: HTTP {status} with a body that is not JSON", status=status
                ) from None
        if status < 400:
            return data
        if status in allow:
            return {"_status": status, **(data if isinstance(data, dict) else {})}
        code = data.get("errorCode") if isinstance(data, dict) else None
        message = data.get("errorMessage") if isinstance(data, dict) else None
        if isinstance(data, dict) and isinstance(data.get("error"), dict):  # Azure's error shape
            code = code or data["error"].get("code")
            message = message or data["error"].get("message")
        detail = f"{code}: {message}" if code else (message or response.reason or "")
        raise CatalogError(f"{what}: HTTP {status} {detail}".rstrip(), status=status, code=code)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _monotonic() -> float:
    return time.monotonic()


ANNOUNCE_PACE = 2.0
"""A pacing wait longer than this many seconds is announced on stderr."""


class TokenBucket:
    """A token bucket: ``rate`` tokens a second, holding at most ``burst`` (one second's
    worth by default). :meth:`take` waits until the tokens are there; a call costing more
    than the bucket holds waits for a full bucket and leaves a debt, so the long-run pace
    never exceeds ``rate``. Clock and sleep are injectable (a simulated clock plans without waiting)."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else rate
        self._clock = clock or _monotonic
        self._sleep = sleep or _sleep
        self._tokens = self.burst
        self._at = self._clock()
        self.waited = 0.0

    def take(self, tokens: float) -> None:
        """Wait until the bucket holds ``tokens`` (at most a full bucket), then spend them;
        a call bigger than the bucket leaves it in debt, which later calls wait out."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        need = min(tokens, self.burst)
        if self._tokens < need:
            wait = (need - self._tokens) / self.rate
            self.waited += wait
            if wait > ANNOUNCE_PACE:
                log.warning(
                    "waiting %.0f s to keep the catalog's pace of %g operations a second", wait, self.rate
                )
            self._sleep(wait)
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
        self._tokens -= tokens


def operations(method: str, path: str, params: Any, body: Any) -> int:
    """The operations Purview meters for one request: each entity, classification and
    relationship a bulk call carries or names counts, and each entity's business metadata
    (an edit adding it is an operation: https://learn.microsoft.com/purview/concept-elastic-data-map);
    any other call is one."""
    if isinstance(body, dict) and isinstance(body.get("entities"), list):
        count = 0
        for entity in body["entities"]:
            count += 1
            if not isinstance(entity, dict):
                continue
            count += len(entity.get("classifications") or [])
            count += int(bool(entity.get("businessAttributes")))
            for value in (entity.get("relationshipAttributes") or {}).values():
                count += len(value) if isinstance(value, list) else int(value is not None)
        return max(1, count)
    if isinstance(body, list):
        return max(1, len(body))
    if isinstance(body, dict) and isinstance(body.get("entityGuids"), list):
        return max(1, len(body["entityGuids"]))
    if method in ("GET", "DELETE") and isinstance(params, list):
        return max(1, len(params))
    return 1


def unique_path(type_name: str) -> str:
    return f"/entity/bulk/uniqueAttribute/type/{quote(type_name, safe='')}"


def basic_auth_headers(username: str, password: str) -> HeadersFn:
    """Headers from pyapacheatlas's BasicAuthentication (built once, never logged)."""
    from pyapacheatlas.auth import BasicAuthentication

    auth = BasicAuthentication(username=username, password=password)
    headers = {k: v for k, v in auth.get_authentication_headers().items() if k.lower() == "authorization"}
    return lambda: headers

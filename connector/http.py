"""Retrying remote calls: exponential backoff with jitter, bounded in attempts and time.

:func:`call_with_retry` calls a zero-argument callable and retries it when a
*classifier* says the outcome is transient. The classifier sees either the value the
callable returned (a ``requests.Response``, say) or the exception it raised, so the
same loop serves plain HTTP calls and client libraries that raise on failure
(pyapacheatlas raises ``requests.RequestException`` without a response, or its own
``AtlasException``, which derives from ``BaseException``).

The default classifier, :func:`classify_http`, retries HTTP 408, 429 and 5xx responses
and connection errors and timeouts, and honours ``Retry-After`` in seconds or as an
HTTP date. Waits grow as ``base_delay * 2**n`` up to ``max_delay``, shortened by a
random share of up to ``jitter``; a ``Retry-After`` wait is taken as given. No wait
runs past ``deadline`` seconds after the first call: when the next wait would, the
last outcome is returned (or its exception re-raised) at once.

Sleep, clock and randomness are injectable so tests run without waiting.
"""

from __future__ import annotations

import logging
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Statuses worth another try: 408 (Purview's Data Map answers it when a call outlives its
request timeout), 429 and the 5xx that pass. 501 (not implemented) never gets better."""


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how long to retry.

    ``jitter`` is the largest share (0..1) by which a computed backoff is shortened at
    random, so that many clients retrying together spread out.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    deadline: float = 120.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.deadline < 0:
            raise ValueError("delays and deadline must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def backoff(self, retry: int, rand: float) -> float:
        """The wait before retry number ``retry`` (0-based), given a uniform [0, 1) draw."""
        delay = min(self.max_delay, self.base_delay * (2**retry))
        return delay * (1 - self.jitter * rand)


NO_RETRY = RetryPolicy(max_attempts=1)


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """A classifier's answer: retry or not, and the server's ``Retry-After`` in seconds."""

    retry: bool
    retry_after: float | None = None


DONE = Verdict(retry=False)

Classifier = Callable[[Any, "BaseException | None"], Verdict]
"""``classify(result, error)``: exactly one of the two is meaningful; ``error`` is None
when the callable returned ``result``."""


def call_with_retry(
    call: Callable[[], T],
    *,
    policy: RetryPolicy = RetryPolicy(),
    classify: Classifier | None = None,
    what: str = "call",
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rand: Callable[[], float] = random.random,
    deadline: float | None = None,
    give_up: Callable[[str], BaseException] | None = None,
) -> T:
    """Call ``call`` until the classifier is satisfied or the policy's budget is spent.

    Returns the last result (which may still be a retryable response: the caller
    decides what a 503 means) or re-raises the last exception. ``what`` names the call
    in log lines; it must not hold secrets. ``KeyboardInterrupt`` and ``SystemExit``
    are never retried.

    ``deadline`` (seconds, default the policy's) bounds the time from the first call to
    the last retry. When a retryable outcome is left because the next wait would pass
    it, ``give_up`` (if given) is called with a sentence saying what was waited for and
    how long, and the exception it returns is raised. Every wait is logged before it
    starts, as a warning (shown on stderr without ``-v``): never a silent wait.
    """
    judge = classify or classify_http
    limit = policy.deadline if deadline is None else deadline
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        error: BaseException | None = None
        result: Any = None
        try:
            result = call()
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as err:
            error = err
        verdict = judge(result, error)
        wait = _next_wait(verdict, attempt, policy, rand)
        last = _describe(result, error, verdict)
        if wait is not None and clock() - started + wait > limit:
            if give_up is not None:
                waited = clock() - started
                beyond = (
                    f"; the server asks for {_seconds(wait)} s more, beyond the {_seconds(limit)} s deadline"
                    if verdict.retry_after is not None
                    else ""
                )
                raise give_up(
                    f"{what}: gave up after {_seconds(waited)} s of retries (last: {last}){beyond}"
                ) from None
            wait = None
        if wait is None:
            if error is not None:
                raise error
            return result
        log.warning(
            "waiting %s s before retry %d of %s: %s",
            _seconds(wait),
            attempt,
            what,
            last,
        )
        sleep(wait)


def _seconds(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _next_wait(
    verdict: Verdict,
    attempt: int,
    policy: RetryPolicy,
    rand: Callable[[], float],
) -> float | None:
    """Seconds to wait before the next attempt, or None to stop now (the deadline is
    the caller's to check)."""
    if not verdict.retry or attempt >= policy.max_attempts:
        return None
    if verdict.retry_after is not None:
        wait = max(0.0, verdict.retry_after)
    else:
        wait = policy.backoff(attempt - 1, rand())
    return wait


def _describe(result: Any, error: BaseException | None, verdict: Verdict | None = None) -> str:
    after = (
        f", Retry-After {_seconds(verdict.retry_after)}"
        if verdict is not None and verdict.retry_after is not None
        else ""
    )
    if error is not None:
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
        if status is not None:
            return f"HTTP {status}{after}"
        return type(error).__name__
    status = getattr(result, "status_code", None)
    return f"HTTP {status}{after}" if status is not None else "retryable result"


# --------------------------------------------------------------------------- classifiers


def classify_http(result: Any, error: BaseException | None) -> Verdict:
    """Retry 429/5xx responses (returned, or carried by a raised exception's
    ``response``) and requests' connection errors and timeouts."""
    if error is None:
        return classify_response(result)
    response = getattr(error, "response", None)
    if response is not None and getattr(response, "status_code", None) is not None:
        return classify_response(response)
    if isinstance(error, requests.ConnectionError) and unreachable(error) is not None:
        return DONE  # a refused connection or an unknown host: waiting does not help
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return Verdict(retry=True)
    return DONE


def unreachable(error: BaseException) -> str | None:
    """``connection refused`` or ``unknown host`` when that is what a connection error
    comes down to (urllib3 wraps the socket error in its own errors: followed through
    ``reason``, ``args``, ``__cause__`` and ``__context__``), else None."""
    seen: set[int] = set()
    todo: list[Any] = [error]
    while todo:
        err = todo.pop()
        if not isinstance(err, BaseException) or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, ConnectionRefusedError):
            return "connection refused"
        if isinstance(err, socket.gaierror):
            return "unknown host"
        todo.extend([getattr(err, "reason", None), err.__cause__, err.__context__, *err.args])
    return None


def classify_response(response: Any) -> Verdict:
    """Retry a response whose status is in :data:`RETRY_STATUSES`."""
    status = getattr(response, "status_code", None)
    if status not in RETRY_STATUSES:
        return DONE
    headers = getattr(response, "headers", None) or {}
    return Verdict(retry=True, retry_after=parse_retry_after(headers.get("Retry-After")))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date.

    >>> parse_retry_after("7"), parse_retry_after("soon")
    (7.0, None)
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


__all__ = [
    "DONE",
    "NO_RETRY",
    "RETRY_STATUSES",
    "Classifier",
    "RetryPolicy",
    "Verdict",
    "call_with_retry",
    "classify_http",
    "classify_response",
    "parse_retry_after",
]

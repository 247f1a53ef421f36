"""The retry helper: statuses, exceptions, Retry-After, attempt and time bounds."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests
import responses

from featmesh.connector.http import (
    RetryPolicy,
    Verdict,
    call_with_retry,
    classify_http,
    parse_retry_after,
)
from tests.conftest import FakeTime

DEFAULT = RetryPolicy()


def run(call, policy=DEFAULT, classify=None, rand=lambda: 0.0):
    fake = FakeTime()
    result = call_with_retry(
        call, policy=policy, classify=classify, sleep=fake.sleep, clock=fake.clock, rand=rand
    )
    return result, fake


URL = "http://127.0.0.1:9/api"


@responses.activate
def test_retries_503_then_returns_the_success_with_exponential_backoff():
    for _ in range(2):
        responses.get(URL, status=503)
    responses.get(URL, json={"ok": True})
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    result, fake = run(lambda: requests.get(URL, timeout=5), policy)
    assert result.json() == {"ok": True}
    assert fake.sleeps == [1.0, 2.0]


@responses.activate
def test_honours_retry_after_seconds_on_429():
    responses.get(URL, status=429, headers={"Retry-After": "7"})
    responses.get(URL, json={})
    result, fake = run(lambda: requests.get(URL, timeout=5))
    assert result.status_code == 200
    assert fake.sleeps == [7.0]


@responses.activate
def test_retries_408_request_timeout():
    """Purview's Data Map answers 408 when a call outlives its server-side timeout."""
    responses.get(URL, status=408, json={"error": {"code": "RequestTimeout", "message": "timed out"}})
    responses.get(URL, json={})
    result, fake = run(lambda: requests.get(URL, timeout=5), RetryPolicy(base_delay=1.0))
    assert result.status_code == 200
    assert fake.sleeps == [1.0]


@responses.activate
def test_gives_up_after_max_attempts_and_returns_the_last_response():
    for _ in range(5):
        responses.get(URL, status=503)
    result, fake = run(lambda: requests.get(URL, timeout=5), RetryPolicy(max_attempts=3))
    assert result.status_code == 503
    assert len(fake.sleeps) == 2
    assert len(responses.calls) == 3


@responses.activate
def test_stops_when_the_next_wait_would_pass_the_deadline():
    for _ in range(5):
        responses.get(URL, status=429, headers={"Retry-After": "50"})
    policy = RetryPolicy(max_attempts=10, deadline=120.0)
    result, fake = run(lambda: requests.get(URL, timeout=5), policy)
    assert fake.sleeps == [50.0, 50.0]
    assert result.status_code == 429


@responses.activate
def test_does_not_retry_client_errors():
    responses.get(URL, status=404)
    result, fake = run(lambda: requests.get(URL, timeout=5))
    assert result.status_code == 404
    assert fake.sleeps == []


@responses.activate
def test_retries_connection_errors_then_reraises():
    responses.get(URL, body=requests.ConnectionError("refused"))
    with pytest.raises(requests.ConnectionError):
        run(lambda: requests.get(URL, timeout=5), RetryPolicy(max_attempts=3))
    assert len(responses.calls) == 3


def test_jitter_shortens_the_wait_within_bounds():
    policy = RetryPolicy(base_delay=4.0, jitter=0.5)
    assert policy.backoff(0, 0.0) == 4.0
    assert policy.backoff(0, 0.999) == pytest.approx(2.002)
    assert policy.backoff(10, 0.0) == policy.max_delay


class BaseFailure(BaseException):
    """Like pyapacheatlas's AtlasException: derives from BaseException."""

    def __init__(self, transient: bool):
        super().__init__("atlas said no")
        self.transient = transient


def test_caller_classifier_retries_base_exceptions():
    outcomes = iter([BaseFailure(True), BaseFailure(True), "done"])

    def call():
        value = next(outcomes)
        if isinstance(value, BaseException):
            raise value
        return value

    def classify(result, error):
        if isinstance(error, BaseFailure):
            return Verdict(retry=error.transient, retry_after=0.25)
        return Verdict(retry=False)

    result, fake = run(call, classify=classify)
    assert result == "done"
    assert fake.sleeps == [0.25, 0.25]


def test_permanent_exception_is_raised_at_once():
    calls = []

    def call():
        calls.append(1)
        raise BaseFailure(False)

    with pytest.raises(BaseFailure):
        run(call, classify=lambda r, e: Verdict(retry=getattr(e, "transient", False)))
    assert calls == [1]


def test_keyboard_interrupt_is_never_retried():
    calls = []

    def call():
        calls.append(1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(call, classify=lambda r, e: Verdict(retry=True))
    assert calls == [1]


def test_exception_carrying_a_response_is_classified_by_its_status():
    response = requests.Response()
    response.status_code = 503
    response.headers["Retry-After"] = "3"
    error = requests.HTTPError("503", response=response)
    assert classify_http(None, error) == Verdict(retry=True, retry_after=3.0)
    assert classify_http(None, requests.RequestException("no response")) == Verdict(retry=False)
    assert classify_http(None, requests.Timeout()).retry


def test_retry_after_http_date():
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now=now) == 0.0
    assert parse_retry_after("-5") is None
    assert parse_retry_after("not a date") is None


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=2)


def test_a_refused_connection_fails_at_once_naming_host_and_cause() -> None:
    """A real refused connection (a local port nothing listens on): not retried."""
    import socket as socket_module
    import time as time_module

    import requests

    from featmesh.connector.http import RetryPolicy, call_with_retry, classify_http, unreachable

    with socket_module.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens
    calls = []

    def send():
        calls.append(1)
        return requests.get(f"http://127.0.0.1:{port}/api/atlas/v2/types/typedefs", timeout=5)

    started = time_module.monotonic()
    try:
        call_with_retry(send, policy=RetryPolicy(), what="GET typedefs", sleep=lambda _s: None)
    except requests.ConnectionError as err:
        assert unreachable(err) == "connection refused"
        assert classify_http(None, err).retry is False
    else:
        raise AssertionError("the call should fail")
    assert calls == [1] and time_module.monotonic() - started < 5

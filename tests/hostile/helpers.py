"""Helpers for hostile-input tests: featmesh in a child process with a time bound,
and loopback HTTP servers that echo what they received."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

TIME_BOUND = 60.0
"""Seconds any one hostile run may take (they take one or two)."""


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float

    def assert_clean_error(self, code: int, *needles: str) -> None:
        """Exit ``code``, each needle in stderr, no traceback."""
        assert self.code == code, (self.code, self.stdout, self.stderr)
        assert "Traceback" not in self.stderr + self.stdout, self.stderr
        for needle in needles:
            assert needle in self.stderr, (needle, self.stderr)


def featmesh(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = TIME_BOUND
) -> Outcome:
    """Run ``python -m featmesh.connector ARGS`` in ``cwd``, within ``timeout`` seconds."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("ATLAS_", "AZURE_", "DATABRICKS_"))}
    child_env.update(env or {})
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "featmesh.connector", *args],
            cwd=cwd,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"featmesh {' '.join(args)} ran past {timeout} s")
    return Outcome(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with ``status`` and a body repeating what it was sent:
    the Authorization header, the decoded basic credentials, the query, the body."""

    status = 400

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        auth = self.headers.get("Authorization", "")
        decoded = ""
        if auth.startswith("Basic "):
            decoded = base64.b64decode(auth[6:]).decode("utf-8", "replace")
        message = (
            f"invalid credentials {decoded}; you sent Authorization: {auth}; "
            f"path {self.path} ({unquote(self.path)}); body {body[:200]}"
        )
        payload = json.dumps({"errorCode": "ATLAS-400-00-001", "errorMessage": message, "message": message})
        data = payload.encode("utf-8")
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def echo_server(status: int = 400) -> Iterator[str]:
    """A loopback server on 127.0.0.1 echoing requests with ``status``; yields its base URL."""
    handler = type("Echo", (_Echo,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def files_under(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

"""No secret featmesh reads ever leaves it: canaries in every credential variable,
failing and succeeding runs against loopback servers that echo what they received,
and a grep of every output and every file written for the canaries in every encoding.

The echo imitates Atlas's error body shape (``errorCode``, ``errorMessage``: Apache
Atlas ``AtlasErrorCode``, intg/src/main/java/org/apache/atlas/AtlasErrorCode.java)
with the credentials it was sent copied into the message, as a misconfigured proxy or
a verbose server does.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from featmesh.connector import redact
from tests.conftest import SAMPLES
from tests.hostile.helpers import echo_server, featmesh, files_under

CANARIES = {
    "ATLAS_USERNAME": "canary-user",
    "ATLAS_PASSWORD": "Cy7#pw/Atlas+secret&1",
    "AZURE_TENANT_ID": "00000000-0000-0000-0000-000000000000",
    "AZURE_CLIENT_ID": "11111111-1111-1111-1111-111111111111",
    "AZURE_CLIENT_SECRET": "az~Canary.Secret_42",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD": "cert-Canary-pw-77",
    "AZURE_PASSWORD": "azure-user-Canary-pw",
    "DATABRICKS_TOKEN": "dapiCANARY0123456789abcdef",
    "DATABRICKS_CLIENT_SECRET": "dbx-client-Canary-secret",
    "PAYMENTS_DBX_TOKEN": "dapiALIASEDcanary98765",
}
NOT_SECRET = ("ATLAS_USERNAME", "AZURE_TENANT_ID", "AZURE_CLIENT_ID")
SECRETS = [v for k, v in CANARIES.items() if k not in NOT_SECRET]


def _encodings(value: str) -> set[str]:
    raw = value.encode()
    found = {value, quote(value, safe=""), quote_plus(value), value.replace("/", "\\/")}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        found.add(encode(raw).decode().rstrip("="))
    return found


NEEDLES = set().union(
    *(_encodings(v) for v in SECRETS),
    _encodings(f"{CANARIES['ATLAS_USERNAME']}:{CANARIES['ATLAS_PASSWORD']}"),
)


def _assert_no_canary(*texts: str, files: dict[Path, bytes] | None = None) -> None:
    for text in texts:
        for needle in NEEDLES:
            assert needle not in text, f"canary form {needle!r} leaked: {text[:2000]}"
    for path, data in (files or {}).items():
        for needle in NEEDLES:
            assert needle.encode() not in data, f"canary form {needle!r} written to {path.name}"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(SAMPLES / "manifests", tmp_path / "manifests")
    return tmp_path


def test_the_echo_server_does_echo_the_canaries(workspace: Path) -> None:
    """The loopback server repeats the credentials, so the other tests can fail."""
    import requests

    with echo_server() as base:
        answer = requests.get(f"{base}/x", auth=("canary-user", CANARIES["ATLAS_PASSWORD"]), timeout=5)
    assert CANARIES["ATLAS_PASSWORD"] in answer.text
    assert base64.b64encode(f"canary-user:{CANARIES['ATLAS_PASSWORD']}".encode()).decode() in answer.text


@pytest.mark.parametrize(
    "command",
    [
        ["scan", "manifests", "--json"],
        ["-vv", "typedefs", "push"],
        ["check", "manifests", "--format", "junit", "--output", "out.xml"],
        ["check", "manifests", "--format", "sarif", "--output", "out.sarif", "--json"],
        ["runs", "--json"],
    ],
    ids=["scan", "typedefs-push", "check-junit", "check-sarif", "runs"],
)
def test_atlas_echoing_credentials_never_leaks_them(workspace: Path, command: list[str]) -> None:
    with echo_server() as base:
        catalog = f"atlas+{base}"
        out = featmesh(*command, "--catalog", catalog, cwd=workspace, env=CANARIES)
        again = featmesh("runs", "--json", "--catalog", catalog, cwd=workspace, env=CANARIES)
    assert out.code != 0 or command[0] == "runs", (out.code, out.stderr)
    assert "Traceback" not in out.stderr
    assert redact.MASK in out.stderr + out.stdout or command[0] == "runs"
    _assert_no_canary(out.stdout, out.stderr, again.stdout, again.stderr, files=files_under(workspace))


def test_databricks_echoing_its_token_never_leaks_it(workspace: Path) -> None:
    with echo_server(status=403) as base:
        source = f"databricks:{base}"
        out = featmesh("scan", source, "--json", "--catalog", "local", cwd=workspace, env=CANARIES)
    assert out.code in (2, 3), out.stderr
    assert "Traceback" not in out.stderr
    _assert_no_canary(out.stdout, out.stderr, files=files_under(workspace))


def test_a_config_aliased_token_is_a_secret_too(workspace: Path) -> None:
    with echo_server(status=401) as base:
        (workspace / "featmesh.yaml").write_text(
            "version: 1\ncatalog: {uri: local}\n"
            f"sources:\n  - uri: 'databricks:{base}'\n    env: {{DATABRICKS_TOKEN: PAYMENTS_DBX_TOKEN}}\n",
            encoding="utf-8",
        )
        env = {k: v for k, v in CANARIES.items() if k != "DATABRICKS_TOKEN"}
        out = featmesh("scan", "--config", "featmesh.yaml", "--json", cwd=workspace, env=env)
    assert out.code in (2, 3), out.stderr
    _assert_no_canary(out.stdout, out.stderr, files=files_under(workspace))


def test_a_succeeding_run_writes_no_canary(workspace: Path) -> None:
    """A clean scan, check and report with every credential variable set."""
    outs = [
        featmesh("scan", "manifests", "--json", "--catalog", "local", cwd=workspace, env=CANARIES),
        featmesh("check", "manifests", "--format", "junit", "--output", "j.xml", cwd=workspace, env=CANARIES),
        featmesh("report", "--catalog", "local", "--output", "r.html", cwd=workspace, env=CANARIES),
        featmesh("-vv", "runs", "--json", cwd=workspace, env=CANARIES),
    ]
    assert outs[0].code == 0, outs[0].stderr
    assert outs[2].code == 0, outs[2].stderr
    written = files_under(workspace)
    assert any(p.name == "catalog.db" for p in written)
    _assert_no_canary(*(o.stdout + o.stderr for o in outs), files=written)


def test_scrub_covers_every_form() -> None:
    import os

    saved = {k: os.environ.get(k) for k in CANARIES}
    os.environ.update(CANARIES)
    redact.register_variable("PAYMENTS_DBX_TOKEN")
    try:
        password = CANARIES["ATLAS_PASSWORD"]
        pair = f"{CANARIES['ATLAS_USERNAME']}:{password}"
        inside = base64.b64encode(f'{{"user": "x", "secret": "{password}"}}'.encode()).decode()
        text = " ".join([*NEEDLES, quote(password), inside, password.replace("&", "&amp;")])
        scrubbed = redact.scrub(text)
        for needle in NEEDLES:
            assert needle not in scrubbed
        assert base64.b64encode(pair.encode()).decode() not in scrubbed
        assert "&amp;1" not in scrubbed
        # the password's base64 inside a longer base64 text is cut out at any alignment
        assert inside not in scrubbed
        assert redact.scrub("nothing secret here") == "nothing secret here"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

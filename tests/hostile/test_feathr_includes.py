"""Feathr includes: featmesh resolves them itself and follows only relative files
inside the workspace, wherever the include stands."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from featmesh.connector.errors import InputError
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources.feathr import read
from tests.conftest import run

ANCHOR = 'anchors: { a: { source: "s", key: "id", features: { f: { def: "x", type: NUMERIC } } } }\n'


def _read(location: Path) -> list:
    return read(str(location), SourceReport(uri=str(location), kind="feathr"), {})


@pytest.fixture
def listener():
    """A loopback server counting the requests it gets (none must come)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = b"leaked { secret: 1 }\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("include", "message"),
    [
        ('x {{ include url("{url}/a.conf") }}', "include of a URL"),
        ('x {{ include "{url}/a.conf" }}', "include of a URL"),
        ('x {{ y {{ include required(url("{url}/a.conf")) }} }}', "include of a URL"),
        ('x = include "{url}/a.conf"', "include of a URL"),
        ('INCLUDE "{url}/a.conf"', "include of a URL"),
        ('x {{ include file("{url}/a.conf") }}', "include of a URL"),
    ],
)
def test_nested_url_includes_are_refused_and_never_fetched(tmp_path, listener, include, message):
    url, hits = listener
    conf = tmp_path / "features.conf"
    conf.write_text("// header\n" + include.format(url=url) + "\n" + ANCHOR, encoding="utf-8")
    with pytest.raises(InputError, match=rf"features\.conf:2: {message}"):
        _read(conf)
    assert hits == []


@pytest.mark.parametrize(
    ("include", "message"),
    [
        ('include file("/etc/passwd")', "an absolute path"),
        ('x { include "/etc/hostname" }', "an absolute path"),
        ('include "../outside.conf"', "outside the workspace"),
        ('include classpath("reference.conf")', r"classpath\(\.\.\.\) includes are not followed"),
        ('include package("pyhocon:x.conf")', r"package\(\.\.\.\) includes are not followed"),
        ('include "*.conf"', "glob patterns"),
        ('include required("missing.conf")', "required file not found"),
        ("include 12", "must be followed by"),
    ],
)
def test_files_outside_the_workspace_are_refused(tmp_path, include, message):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (tmp_path / "outside.conf").write_text("stolen: yes\n", encoding="utf-8")
    conf = workspace / "features.conf"
    conf.write_text("\n" + include + "\n" + ANCHOR, encoding="utf-8")
    with pytest.raises(InputError, match=rf"features\.conf:2: .*{message}"):
        _read(workspace)


def test_a_symlink_out_of_the_workspace_is_refused(tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (tmp_path / "secret.conf").write_text("stolen: yes\n", encoding="utf-8")
    (workspace / "link.conf").symlink_to(tmp_path / "secret.conf")
    (workspace / "features.conf").write_text('include "link.conf"\n' + ANCHOR, encoding="utf-8")
    with pytest.raises(InputError, match=r"features\.conf:1: .*outside the workspace"):
        _read(workspace / "features.conf")


def test_a_cycle_names_the_files(tmp_path):
    (tmp_path / "a.conf").write_text('x { include "b.conf" }\n' + ANCHOR, encoding="utf-8")
    (tmp_path / "b.conf").write_text('\ninclude "a.conf"\n', encoding="utf-8")
    cycle = r"b\.conf:2: include makes a cycle: .*a\.conf -> .*b\.conf -> .*a\.conf"
    with pytest.raises(InputError, match=cycle):
        _read(tmp_path / "a.conf")


def test_relative_includes_inside_the_workspace_still_work(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "sources.conf").write_text(
        '{\n  sources: { s: { location: { path: "abfss://x/y" } } }\n}\n', encoding="utf-8"
    )
    (tmp_path / "common" / "keys.conf").write_text('key: "id"\n', encoding="utf-8")
    (tmp_path / "features.conf").write_text(
        'include "common/sources.conf"\ninclude "optional-missing.conf"\n'
        'anchors: { a: { source: "s", include file("common/keys.conf"), '
        'features: { f: { def: "x", type: NUMERIC } } } }\n'
        "// include url(\"http://example.invalid\") in a comment is not an include\n"
        'description = "include \\"/etc/passwd\\" in a string is not one either"\n',
        encoding="utf-8",
    )
    (store,) = _read(tmp_path)
    (fs,) = store.feature_sets
    assert fs.name == "a"
    assert [s.uri for s in fs.sources] == ["abfss://x/y"]
    assert [k.name for k in fs.join_keys] == ["id"]


def test_an_error_in_an_included_file_names_that_file(tmp_path):
    (tmp_path / "inc.conf").write_text("a: 1\nb: [1, 2\nc: 3\n", encoding="utf-8")
    (tmp_path / "features.conf").write_text('include "inc.conf"\n' + ANCHOR, encoding="utf-8")
    with pytest.raises(InputError, match=r"inc\.conf:\d+"):
        _read(tmp_path / "features.conf")


def test_the_cli_exits_2_and_writes_nothing(tmp_path):
    conf = tmp_path / "ws" / "features.conf"
    conf.parent.mkdir()
    conf.write_text('x { include file("/etc/passwd") }\n' + ANCHOR, encoding="utf-8")
    catalog = tmp_path / "out" / "catalog.db"
    result = run("scan", f"feathr:{conf}", "--catalog", f"local:{catalog}")
    assert result.exit_code == 2, result.stderr
    assert "features.conf:1" in result.stderr
    assert "root:" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr

"""Damaged, read-only and shared local catalogs: clear errors (exit 2) naming the file,
and concurrent scans of one catalog that wait for each other instead of racing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from featmesh.connector.catalog import local
from tests.conftest import SAMPLES, run
from tests.hostile.helpers import TIME_BOUND, featmesh

MANIFESTS = str(SAMPLES / "manifests")


@pytest.fixture
def scanned(tmp_path: Path) -> Path:
    db = tmp_path / "catalog.db"
    assert run("scan", MANIFESTS, "--catalog", f"local:{db}").exit_code == 0
    return db


def _not_utf8(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET record = CAST(X'7B22FFFE' AS TEXT)")
        conn.execute("UPDATE entities SET attributes = CAST(X'7B22FFFE' AS TEXT)")


def _garbled(db: Path) -> None:
    data = bytearray(db.read_bytes())
    for offset in range(4096 + 16, len(data), 4096):  # every page header after the first
        data[offset : offset + 64] = b"\xa5" * 64
    db.write_bytes(bytes(data))


def _not_sqlite(db: Path) -> None:
    db.write_bytes(b"PK\x03\x04 this is a zip, not a catalog" * 100)


@pytest.mark.parametrize(
    "damage", [_not_utf8, _garbled, _not_sqlite], ids=["not-utf8", "garbled", "not-sqlite"]
)
@pytest.mark.parametrize(
    "command",
    [["scan", MANIFESTS], ["runs"], ["report", "--format", "json"], ["catalog", "export"]],
    ids=["scan", "runs", "report", "export"],
)
def test_a_damaged_catalog_is_exit_2_naming_the_file(scanned: Path, damage, command) -> None:
    damage(scanned)
    before = scanned.read_bytes()
    result = run(*command, "--catalog", f"local:{scanned}")
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert str(scanned) in result.stderr
    assert "restore it from a backup" in result.stderr or "not a featmesh catalog" in result.stderr
    assert "Traceback" not in result.stderr
    assert scanned.read_bytes() == before  # nothing written


def test_a_read_only_catalog_file_says_so(tmp_path: Path, scanned: Path, monkeypatch) -> None:
    """SQLite's answer for a file it may not write ('attempt to write a readonly
    database'), produced here with query_only since tests may run as root."""

    def read_only(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA query_only = ON")
        return conn

    monkeypatch.setattr(local, "_connect", read_only)
    result = run("scan", MANIFESTS, "--catalog", f"local:{scanned}")
    assert result.exit_code == 2, result.stderr
    assert f"{scanned}: the catalog file is read-only" in result.stderr
    assert "not a featmesh catalog" not in result.stderr


def test_concurrent_scans_of_one_catalog_all_succeed(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    args = [sys.executable, "-m", "featmesh.connector", "scan", MANIFESTS, "--catalog", f"local:{db}"]
    started = time.monotonic()
    children = [
        subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outs = [child.communicate(timeout=TIME_BOUND * 2) for child in children]
    assert time.monotonic() - started < TIME_BOUND * 2
    codes = [child.returncode for child in children]
    assert codes == [0, 0, 0], [o[1] for o in outs]
    assert not any("UNIQUE" in err for _, err in outs)
    runs = featmesh("runs", "--json", "--catalog", f"local:{db}", cwd=tmp_path)
    assert runs.code == 0
    assert runs.stdout.count('"status": "ok"') >= 3


def test_a_second_writer_waits_with_a_message(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    held = local.LocalCatalog(db)
    lines: list[str] = []
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "featmesh.connector", "scan", MANIFESTS, "--catalog", f"local:{db}"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stderr is not None
        reader = threading.Thread(target=lambda: lines.extend(child.stderr or ()), daemon=True)
        reader.start()
        deadline = time.monotonic() + TIME_BOUND
        while not any("waiting for another featmesh run" in line for line in lines):
            assert time.monotonic() < deadline, lines
            assert child.poll() is None, lines  # it waits, it does not fail
            time.sleep(0.1)
    finally:
        held.close()
    assert child.wait(timeout=TIME_BOUND) == 0, lines
    reader.join(5)

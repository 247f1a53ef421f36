"""Progress of long phases on stderr: a live bar on a terminal, plain periodic lines in CI
logs (stderr not a terminal), nothing with ``-q``; and ``-q`` quiets the non-fatal lines
while the last ``featmesh: exit N: why`` line stays."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from featmesh.connector import progress
from tests.conftest import payments_manifest, run


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


@pytest.fixture(autouse=True)
def _progress_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEATMESH_PROGRESS_SECONDS", raising=False)
    progress.configure(enabled=True, quiet=False)


def _mesh(folder: Path, files: int) -> Path:
    folder.mkdir()
    for n in range(files):
        (folder / f"m{n:02}.yaml").write_text(payments_manifest(f"payments_{n}"))
    return folder


def test_a_log_gets_a_line_each_tenth_once_the_phase_has_run_a_second():
    clock, out = Clock(), io.StringIO()
    bar = progress.Meter("reading manifests", 200, "files", stream=out, clock=clock)
    for _ in range(20):  # the first second: a short phase stays silent
        bar.advance()
    assert out.getvalue() == ""
    for _ in range(180):
        clock.now += 0.05
        bar.advance()
    bar.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("featmesh: reading manifests: ")
    assert "files, " in lines[0] and "%" in lines[0]
    assert 5 <= len(lines) <= 10  # at most one a second, each a new tenth
    assert lines[-1] == "featmesh: reading manifests: 200/200 files, 100%, done in 9.0s"
    assert "\r" not in out.getvalue() and "\033" not in out.getvalue()


def test_a_slow_stretch_still_gets_a_line_every_interval(monkeypatch):
    monkeypatch.setenv("FEATMESH_PROGRESS_SECONDS", "10")
    clock, out = Clock(), io.StringIO()
    bar = progress.Meter("writing batches", 1000, "batches", stream=out, clock=clock)
    for _ in range(30):  # 3% in 60 s: no tenth crossed, a line every 10 s or so
        clock.now += 2.0
        bar.advance()
    # the clock is read every hundredth until the items prove slow, then at each one
    assert [line.split(", ")[-1] for line in out.getvalue().splitlines()] == [
        "20s",
        "30s",
        "40s",
        "50s",
        "60s",
    ]


def test_a_short_phase_prints_nothing_and_advancing_reads_the_clock_rarely():
    clock, out = Clock(), io.StringIO()
    with progress.Meter("evaluating 10000 feature sets", 10_000, stream=out, clock=clock) as bar:
        for _ in range(10_000):
            bar.advance()
    assert out.getvalue() == ""
    assert clock.reads <= 102  # once at the start, then every hundredth: no per-set cost


def test_quiet_gives_the_silent_meter():
    progress.configure(enabled=False, quiet=True)
    assert progress.meter("reading", 10, "files") is progress.SILENT


def test_a_folder_check_in_a_log_prints_periodic_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATMESH_PROGRESS_SECONDS", "0")  # every tenth, from the start
    mesh = _mesh(tmp_path / "features", 20)
    result = run("check", str(mesh))
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    reading = [line for line in lines if line.startswith(f"featmesh: reading {mesh}: ")]
    assert reading[0] == f"featmesh: reading {mesh}: 2/20 files, 10%, 0s"
    assert reading[-1].startswith(f"featmesh: reading {mesh}: 20/20 files, 100%, done in ")
    assert len(reading) == 10
    assert any(
        line.startswith("featmesh: evaluating 20 feature sets against mesh-baseline") for line in lines
    )
    assert "\r" not in result.stderr


def test_quiet_prints_no_progress_and_no_per_file_lines_but_the_exit_line(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATMESH_PROGRESS_SECONDS", "0")
    mesh = _mesh(tmp_path / "features", 20)
    (mesh / "broken.yaml").write_text("apiVersion: featmesh/v1\nstore: {name: x\n")
    loud = run("check", str(mesh), "--format", "sarif", "-o", str(tmp_path / "a.sarif"))
    assert loud.exit_code == 3
    assert loud.stderr.count("broken.yaml:3: invalid YAML") == 1  # once, not again at exit
    assert loud.stderr.splitlines()[-1] == "featmesh: exit 3: the run is incomplete: 1 file could not be used"

    quiet = run("-q", "check", str(mesh), "--format", "sarif", "-o", str(tmp_path / "b.sarif"))
    assert quiet.exit_code == 3
    assert quiet.stderr.splitlines() == [
        f"featmesh: exit 3: the run is incomplete: 1 file could not be used (first: {mesh}/broken.yaml:3: "
        "invalid YAML: expected ',' or '}', but got '<stream end>')"
    ]
    assert "broken.yaml" in (tmp_path / "b.sarif").read_text()  # the report still has it


def test_a_scan_input_error_is_printed_once(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: featmesh/v1\nstore: {name: x\n")
    result = run("scan", str(broken), "--dry-run", "--catalog", f"local:{tmp_path / 'c.db'}")
    assert result.exit_code == 2
    assert result.stderr.count("invalid YAML") == 1, result.stderr


def test_a_terminal_gets_a_live_bar(tmp_path):
    """stderr on a pseudo-terminal, as a developer's shell gives it: one rewritten line with a
    bar (carriage return, erase to end of line), cleared when the phase ends."""
    mesh = _mesh(tmp_path / "features", 12)
    master, slave = pty.openpty()
    env = {**os.environ, "FEATMESH_PROGRESS_SECONDS": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "featmesh.connector", "check", str(mesh)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    stdout, _ = proc.communicate(timeout=60)
    os.close(master)
    assert proc.returncode == 0, seen
    text = seen.decode()
    assert f"\r\033[Kreading {mesh} [" in text
    assert "] 12/12 files, 100% " in text
    assert "\r\033[Kevaluating 12 feature sets against mesh-baseline@1.0.0 [" in text
    assert "featmesh: reading" not in text  # no plain log lines on a terminal
    assert b"\033[K" not in stdout  # the report on stdout is untouched


def test_a_terminal_with_quiet_gets_nothing(tmp_path):
    mesh = _mesh(tmp_path / "features", 12)
    master, slave = pty.openpty()
    env = {**os.environ, "FEATMESH_PROGRESS_SECONDS": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "featmesh.connector", "-q", "check", str(mesh)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
        timeout=60,
    )
    os.close(slave)
    os.set_blocking(master, False)
    try:
        seen = os.read(master, 65536)
    except (BlockingIOError, OSError):
        seen = b""
    os.close(master)
    assert proc.returncode == 0
    assert seen == b""


def test_a_scan_with_a_failed_source_says_which_in_its_exit_line(tmp_path):
    mesh = _mesh(tmp_path / "features", 1)
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: featmesh/v1\nstore: {name: x\n")
    result = run("-q", "scan", str(mesh), str(broken), "--catalog", f"local:{tmp_path / 'c.db'}", "--json")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "featmesh: exit 3: the run is incomplete: 1 source could not be read "
        f"(first: manifest:{broken}: {broken}:3: "
        "invalid YAML: expected ',' or '}', but got '<stream end>')"
    ]


def test_a_scan_names_a_broken_file_of_a_folder_once_and_in_its_exit_line(tmp_path):
    mesh = _mesh(tmp_path / "features", 2)
    (mesh / "broken.yaml").write_text("apiVersion: featmesh/v1\nstore: {name: x\n")
    result = run("scan", str(mesh), "--catalog", f"local:{tmp_path / 'c.db'}")
    assert result.exit_code == 3
    problem = f"{mesh}/broken.yaml:3: invalid YAML: expected ',' or '}}', but got '<stream end>'"
    assert f"         not used: {problem}" in result.stdout.splitlines()
    assert result.stderr.splitlines()[-1] == (
        f"featmesh: exit 3: the run is incomplete: 1 file could not be used (first: {problem})"
    )
    assert result.stderr.count("invalid YAML") == 1

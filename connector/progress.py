"""Progress of long runs on stderr: a live bar on a terminal, plain lines in CI logs.

Stages call :func:`step` for a one-off message (reading source 2 of 6) and :func:`meter`
for a phase of known size (files read, sets evaluated, profiles, batches written)::

    with progress.meter("reading manifests", len(files), "files") as bar:
        for path in files:
            ...
            bar.advance()

On a terminal (stderr is a tty) the meter is one rewritten line with a bar, drawn at most
ten times a second and cleared when the phase ends. Elsewhere (CI logs) it prints a plain
line each time a tenth of the phase is done, at most one a second, and one every
``FEATMESH_PROGRESS_SECONDS`` (default 10) through a slow stretch; a phase over within the
first second prints nothing. ``FEATMESH_PROGRESS_SECONDS=0`` shows every phase, every
tenth. ``featmesh -q`` turns all of it off. Output never goes to stdout, which stays for
the command's result (``--json``).

``advance`` costs an addition and a comparison: the clock is read only every hundredth
of the phase (or every item of a phase of fewer than a hundred).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

_lock = threading.Lock()
_state = {"enabled": True, "open": False, "quiet": False}
DEFAULT_SECONDS = 10.0
BAR_WIDTH = 24
REDRAW_SECONDS = 0.1
SLOW_SECONDS = 0.5


def configure(*, enabled: bool, quiet: bool | None = None) -> None:
    """``featmesh -q``: no progress, and no non-fatal lines (``quiet``); a run's last
    line (``featmesh: exit N: why``) and fatal errors are still printed."""
    _state["enabled"] = enabled
    if quiet is not None:
        _state["quiet"] = quiet


def quiet() -> bool:
    """True under ``featmesh -q``: commands print no non-fatal lines on stderr."""
    return bool(_state["quiet"])


def enabled() -> bool:
    return bool(_state["enabled"])


def _tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def step(message: str, stream: TextIO | None = None) -> None:
    if not _state["enabled"]:
        return
    out = stream or sys.stderr
    with _lock:
        if _tty(out):
            out.write(f"\r\033[K{message}")
            _state["open"] = True
        else:
            out.write(f"featmesh: {message}\n")
        out.flush()


def done(stream: TextIO | None = None) -> None:
    """End a rewritten line (so the next output starts on a fresh one)."""
    out = stream or sys.stderr
    with _lock:
        if _state["open"]:
            out.write("\n")
            out.flush()
            _state["open"] = False


def interrupt() -> None:
    """Clear a live bar before another line is written to stderr (a log line); the bar
    is drawn again at its next step."""
    with _lock:
        if _state["open"]:
            sys.stderr.write("\r\033[K")
            _state["open"] = False


class LogHandler(logging.StreamHandler):
    """Log lines on stderr that never land in the middle of a live bar."""

    def emit(self, record: logging.LogRecord) -> None:
        interrupt()
        super().emit(record)


def interval() -> float:
    """Seconds between plain progress lines (``FEATMESH_PROGRESS_SECONDS``)."""
    raw = os.environ.get("FEATMESH_PROGRESS_SECONDS")
    if not raw:
        return DEFAULT_SECONDS
    try:
        return max(0.0, float(raw))
    except ValueError:
        return DEFAULT_SECONDS


class Meter:
    """Progress of one phase of ``total`` units (``None``: told later with :meth:`expect`)."""

    __slots__ = (
        "_clock",
        "_every",
        "_interval",
        "_last",
        "_last_decile",
        "_next",
        "_quiet_until",
        "_seen",
        "_shown",
        "_start",
        "_stream",
        "_tty",
        "count",
        "detail",
        "label",
        "total",
        "unit",
    )  # fmt: skip

    def __init__(
        self,
        label: str,
        total: int | None,
        unit: str = "",
        *,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.unit, self.count, self.detail = label, unit, 0, ""
        self._stream = stream or sys.stderr
        self._tty = _tty(self._stream)
        self._clock = clock
        self._interval = interval()
        self._start = self._last = self._seen = clock()
        # nothing in the first second (a short phase stays silent); =0: from the start
        self._quiet_until = self._start + min(1.0 if not self._tty else 0.25, self._interval)
        self._last_decile = 0
        self._shown = False
        self.total = 0
        self._every = self._next = 1
        self.expect(total)

    def expect(self, total: int | None) -> None:
        """Set the size of the phase once it is known."""
        self.total = max(0, total or 0)
        self._every = max(1, self.total // 100)
        self._next = self.count + self._every

    def advance(self, n: int = 1) -> None:
        self.count += n
        if self.count >= self._next:
            self._next = self.count + self._every
            self._tick()

    def note(self, detail: str) -> None:
        """What the phase is on now (the rows of the file being profiled), shown with it."""
        self.detail = detail
        self._tick()

    def _tick(self) -> None:
        now = self._clock()
        if now - self._seen > SLOW_SECONDS:
            self._every, self._next = 1, self.count + 1  # slow items: the clock costs nothing next to one
        self._seen = now
        if now < self._quiet_until or not _state["enabled"]:
            return
        if self._tty:
            if not self._shown or now - self._last >= REDRAW_SECONDS or self.count >= self.total:
                self._draw(now)
            return
        if self.total and self.count >= self.total:
            return  # the closing line says it
        decile = 10 * self.count // self.total if self.total else 0
        gap = now - self._last
        if (decile > self._last_decile and gap >= min(1.0, self._interval)) or (
            self._interval and gap >= self._interval
        ):
            self._last_decile = decile
            self._line(now)

    def _share(self) -> str:
        if not self.total:
            return f"{self.count:,}" + (f" {self.unit}" if self.unit else "")
        counted = f"{self.count:,}/{self.total:,} {self.unit}, " if self.unit else ""
        return f"{counted}{100 * min(self.count, self.total) // self.total}%"

    def _draw(self, now: float) -> None:
        share = min(self.count, self.total) / self.total if self.total else 0.0
        filled = int(BAR_WIDTH * share)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        detail = f" {self.detail}" if self.detail else ""
        text = f"{self.label} [{bar}] {self._share()} {now - self._start:.0f}s{detail}"
        with _lock:
            self._stream.write(f"\r\033[K{text}")
            self._stream.flush()
            _state["open"] = True
        self._last, self._shown = now, True

    def _line(self, now: float) -> None:
        detail = f" ({self.detail})" if self.detail else ""
        with _lock:
            self._stream.write(f"featmesh: {self.label}: {self._share()}, {now - self._start:.0f}s{detail}\n")
            self._stream.flush()
        self._last, self._shown = now, True

    def close(self) -> None:
        """End the phase: a terminal's bar is cleared; a log that showed the phase gets its
        last line (every unit done, and how long it took)."""
        if not self._shown or not _state["enabled"]:
            return
        now = self._clock()
        with _lock:
            if self._tty:
                self._stream.write("\r\033[K")
                _state["open"] = False
            else:
                self._stream.write(
                    f"featmesh: {self.label}: {self._share()}, done in {now - self._start:.1f}s\n"
                )
            self._stream.flush()
        self._shown = False

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Silent(Meter):
    """The meter of a run with ``-q``: every call does nothing."""

    __slots__ = ()

    def __init__(self) -> None:
        self.label, self.unit, self.count, self.detail, self.total = "", "", 0, "", 0

    def expect(self, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def note(self, detail: str) -> None:
        pass

    def close(self) -> None:
        pass


SILENT = _Silent()


def meter(label: str, total: int | None, unit: str = "", *, stream: TextIO | None = None) -> Meter:
    """A meter for one phase, or one that does nothing when progress is off (``-q``)."""
    if not _state["enabled"]:
        return SILENT
    return Meter(label, total, unit, stream=stream)


class StderrProgress:
    """Progress of a profile's rows, as the profiler calls it (``uri, rows done, rows total
    or None``): a rewritten line on a terminal, a line every ten seconds otherwise, once the
    work takes more than a second; nothing with ``-q``. With ``into``, the rows are shown
    as the detail of that meter (the sets being profiled) instead."""

    def __init__(self, stream: Any = None, into: Meter | None = None) -> None:
        self.stream = stream or sys.stderr
        self.into = into
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False
        self.tty = _tty(self.stream)

    def __call__(self, uri: str, done: int, total: int | None) -> None:
        if not _state["enabled"]:
            return
        rows = f"{done:,}" + (f" of {total:,}" if total else "")
        if self.into is not None:
            self.into.note(f"{uri}: {rows} rows")
            return
        now = time.monotonic()
        interval = 0.5 if self.tty else 10.0
        if now - self.start < 1.0 or now - self.last < interval:
            return
        self.last = now
        share = f" {100 * done / total:.0f}%" if total else ""
        text = f"profiling {uri}:{share} ({rows} rows, {now - self.start:.0f}s)"
        self.stream.write(f"\r{text}\x1b[K" if self.tty else f"{text}\n")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()

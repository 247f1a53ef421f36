"""Progress of long runs on stderr: one rewritten line on a terminal, plain lines otherwise.

Stages call :func:`step` (reading source 2 of 6, writing batch 3 of 40, ...). Output
never goes to stdout, which stays for the command's result (``--json``).
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

_lock = threading.Lock()
_state = {"enabled": True, "open": False}


def configure(*, enabled: bool) -> None:
    _state["enabled"] = enabled


def step(message: str, stream: TextIO | None = None) -> None:
    if not _state["enabled"]:
        return
    out = stream or sys.stderr
    with _lock:
        if out.isatty():
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

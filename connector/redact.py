"""Scrubbing secrets from everything featmesh prints or stores.

featmesh reads credentials from the environment (:data:`CREDENTIAL_VARIABLES`, the
variables a config's ``env`` mapping names, tokens it obtained from azure-identity).
A remote service can echo them back in an error body (``400 invalid credentials
admin:s3cret``, ``you sent Authorization: Basic YWRtaW46czNjcmV0``), and that text
would otherwise reach stderr, a ``--json`` summary, a report file or the run history.

:func:`scrub` replaces every known secret value, in every form it can take on the way
out, by ``***``: plain; URL-encoded (``quote`` and ``quote_plus``); JSON- and
XML-escaped; base64 (standard and URL-safe, with and without padding) of the value
and of ``user:password``; and the value's base64 inside a longer base64 text, at each
of the three byte alignments. It runs at the boundary, once: the standard streams
while a command runs (:func:`scrubbed_streams`) and the writers of files and run
records (:func:`write_text`, the catalog's run store).

Values shorter than :data:`MIN_LENGTH` characters are not scrubbed: replacing every
``abc`` would garble output and protects nothing a guess would not find.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

from featmesh.connector.textsafe import terminal

CREDENTIAL_VARIABLES = (
    "ATLAS_PASSWORD",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_PASSWORD",
    "DATABRICKS_TOKEN",
    "DATABRICKS_CLIENT_SECRET",
)
"""Variables holding secrets that featmesh (or azure-identity on its behalf) reads."""

USER_SECRET_PAIRS = (("ATLAS_USERNAME", "ATLAS_PASSWORD"), ("AZURE_USERNAME", "AZURE_PASSWORD"))
"""Variables combined as ``user:password`` (HTTP basic authentication)."""

MIN_LENGTH = 6
MASK = "***"

_variables: set[str] = set()
_values: set[str] = set()
_cache: dict[tuple[str, ...], re.Pattern[str] | None] = {}


def register_variable(name: str) -> None:
    """Treat the value of environment variable ``name`` as a secret (a config's ``env``
    mapping names the variables holding a source's credentials)."""
    _variables.add(name)


def register_value(value: str) -> None:
    """Treat ``value`` as a secret (a token featmesh obtained at run time)."""
    if value:
        _values.add(value)


def _secrets() -> tuple[list[str], list[str]]:
    env = os.environ
    values = [env[name] for name in (*CREDENTIAL_VARIABLES, *sorted(_variables)) if env.get(name)]
    values.extend(sorted(_values))
    pairs = [f"{env[u]}:{env[p]}" for u, p in USER_SECRET_PAIRS if env.get(u) and env.get(p)]
    return values, pairs


def _b64_forms(raw: bytes) -> Iterator[str]:
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        yield whole
        yield whole.rstrip("=")
        for shift, skip in ((0, 0), (1, 2), (2, 3)):
            # the characters that depend on ``raw`` alone when it starts ``shift``
            # bytes into a 3-byte group of a longer text
            text = encode(b"\0" * shift + raw).decode("ascii")
            full = ((shift + len(raw)) // 3) * 4
            middle = text[skip:full]
            if len(middle) >= 8:
                yield middle


def forms(value: str) -> set[str]:
    """Every form of ``value`` that :func:`scrub` removes."""
    found = {value, quote(value, safe=""), quote(value), quote_plus(value)}
    for escaped in (json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]):
        found.add(escaped)
        found.add(escaped.replace("/", "\\/"))  # JSON writers that escape the solidus
    found.add(html.escape(value))
    found.add(html.escape(value, quote=False))
    found.update(_b64_forms(value.encode("utf-8")))
    return {f for f in found if len(f) >= MIN_LENGTH}


def _pattern() -> re.Pattern[str] | None:
    values, pairs = _secrets()
    key = (*values, "\0", *pairs)
    if key not in _cache:
        texts: set[str] = set()
        for value in values:
            if len(value) >= MIN_LENGTH:
                texts |= forms(value)
        for pair in pairs:
            texts |= forms(pair)
        ordered = sorted(texts, key=len, reverse=True)
        _cache.clear()
        _cache[key] = re.compile("|".join(map(re.escape, ordered))) if ordered else None
    return _cache[key]


def active() -> bool:
    """Whether any secret is known: else :func:`scrub` leaves every text as it is."""
    return _pattern() is not None


def scrub(text: str) -> str:
    """``text`` with every known secret, in any of its forms, replaced by ``***``."""
    pattern = _pattern()
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def scrub_all(texts: Iterable[str]) -> list[str]:
    return [scrub(t) for t in texts]


def write_text(path: Path, text: str) -> None:
    """Write an output file (report, check results) with secrets scrubbed."""
    path.write_text(scrub(text), encoding="utf-8")


class ScrubbedStream:
    """A text stream that scrubs what is written to it (and escapes control
    characters: :func:`featmesh.connector.textsafe.terminal`) and delegates the rest."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    @property
    def wrapped(self) -> TextIO:
        return self._stream

    def write(self, text: Any) -> int:
        if isinstance(text, str):
            text = terminal(scrub(text))
        return self._stream.write(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def scrubbed_streams() -> Iterator[None]:
    """Scrub ``sys.stdout`` and ``sys.stderr`` (and so click's output and log lines)
    while the block runs."""
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, ScrubbedStream):
        sys.stdout = ScrubbedStream(sys.stdout)
    if not isinstance(sys.stderr, ScrubbedStream):
        sys.stderr = ScrubbedStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


__all__ = [
    "CREDENTIAL_VARIABLES",
    "MASK",
    "ScrubbedStream",
    "active",
    "forms",
    "register_value",
    "register_variable",
    "scrub",
    "scrubbed_streams",
    "write_text",
]

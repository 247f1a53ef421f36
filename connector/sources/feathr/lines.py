"""Where a Feathr anchor or derivation writes each key: pyhocon keeps no positions, so the
lines are found by a token search of the ``.conf`` text, inside the block of the anchor
(its braces matched, quoted strings and comments skipped), and only when a finding needs
one.

Keys: ``sources`` (the anchor's ``source:``), ``entities`` (its ``key:``), and per feature
``features.NAME`` (its name inside ``features``) and ``features.NAME.dtype`` (its
``type``). A derivation is one feature of its own name, at the derivation's line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from featmesh.connector.model import KeyPlace

SET_KEYS = (("sources", "source"), ("entities", "key"))


def _key(name: str) -> re.Pattern[str]:
    """``name:``, ``name =``, ``name {`` or ``"name":`` at the start of a line or after ``{``/``,``."""
    return re.compile(rf'(?:^|[{{,])[ \t]*"?{re.escape(name)}"?[ \t]*[:={{]', re.MULTILINE)


def key_lines(
    text: str, section: str, name: str, features: Iterable[str]
) -> tuple[tuple[str, KeyPlace], ...]:
    """The line of each key of ``section.name`` in ``text`` (an empty tuple where the
    block is not found as written)."""
    head = _key(section).search(text)
    found = _key(name).search(text, head.end() if head else 0)
    if found is None:
        return ()
    start, end = found.end(), _block_end(text, found.end() - 1)
    out: list[tuple[str, KeyPlace]] = []
    for key, written in SET_KEYS:
        match = _key(written).search(text, start, end)
        if match is not None:
            out.append((key, _line(text, match.end())))
    names = list(features)
    if section == "derivations":
        out.append((f"features.{name}", _line(text, found.end())))
        match = _key("type").search(text, start, end)
        if match is not None:
            out.append((f"features.{name}.dtype", _line(text, match.end())))
        return tuple(out)
    block = _key("features").search(text, start, end)
    if block is None:
        return tuple(out)
    places = []
    for feature in names:
        match = _key(feature).search(text, block.end(), end) or re.compile(
            rf"\b{re.escape(feature)}\b"
        ).search(text, block.end(), end)  # a list of names (extractor anchors)
        if match is not None:
            places.append((match.end(), feature))
    places.sort()
    for i, (at, feature) in enumerate(places):
        out.append((f"features.{feature}", _line(text, at)))
        until = places[i + 1][0] if i + 1 < len(places) else end
        match = _key("type").search(text, at, until)
        if match is not None:
            out.append((f"features.{feature}.dtype", _line(text, match.end())))
    return tuple(out)


def feature_names(raw: Any) -> list[str]:
    """The feature names an anchor's ``features`` declares (an object or a list of names)."""
    features = raw.get("features") if isinstance(raw, dict) else None
    if isinstance(features, dict):
        return [str(n) for n in features]
    if isinstance(features, list):
        return [str(n) for n in features]
    return []


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _block_end(text: str, at: int) -> int:
    """Where the block opened at or after ``at`` closes (braces matched, quoted strings and
    comments skipped); the end of the text when it is not a block."""
    brace = text.find("{", at)
    newline = text.find("\n", at)
    if brace < 0 or (0 <= newline < brace and text[at:newline].strip(" \t:=")):
        return newline if newline >= 0 else len(text)  # a one-line value
    depth, i, size = 0, brace, len(text)
    while i < size:
        char = text[i]
        if char == '"':
            i = text.find('"', i + 1)
            if i < 0:
                return size
        elif char == "#" or text.startswith("//", i):
            i = text.find("\n", i)
            if i < 0:
                return size
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return size

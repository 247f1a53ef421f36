"""Regular expressions from users' files, run in linear time.

Patterns written in policy packs, a config's ``data_products`` rules and waiver
targets are matched against metadata featmesh does not control (owners, names,
URIs). Python's ``re`` backtracks: ``^(a+)+$`` against ``aaaa...a!`` runs for
minutes. They are compiled with RE2 (google-re2, https://github.com/google/re2/wiki/Syntax),
whose matching time is linear in the input; what RE2 cannot run in linear time
(backreferences, lookaround) is refused when the file is read, with the reason.
"""

from __future__ import annotations

from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the reason goes into featmesh's own message, not stderr


MEMO_CHARS = 200
"""Texts up to this long have their answers remembered (names, not descriptions)."""
MEMO_ENTRIES = 65_536
"""At most this many answers remembered per pattern."""


class PatternError(ValueError):
    """A pattern RE2 cannot compile; ``str()`` says why."""


class LinearPattern:
    """An RE2 pattern that prints, compares and hashes as its source text, so that what
    holds one (a policy's parameters) has a stable ``repr`` from run to run: incremental
    scans sign the rules by it. Matching is RE2's (``match``, ``fullmatch``, ``search``)."""

    __slots__ = ("_compiled", "_found", "pattern")

    def __init__(self, pattern: str, compiled: Any) -> None:
        self.pattern = pattern
        self._compiled = compiled
        self._found: dict[tuple[str, str], Any] = {}
        """(method, text) -> its answer, for short texts: a mesh repeats its feature
        names thousands of times, and each call through the RE2 binding costs
        microseconds where a lookup costs nanoseconds."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._compiled, name)

    def _remembered(self, method: str, text: Any) -> Any:
        if type(text) is not str or len(text) > MEMO_CHARS:
            return getattr(self._compiled, method)(text)
        key = (method, text)
        try:
            return self._found[key]
        except KeyError:
            found = getattr(self._compiled, method)(text)
            if len(self._found) < MEMO_ENTRIES:
                self._found[key] = found
            return found

    def fullmatch(self, text: Any, *args: Any) -> Any:
        if args:
            return self._compiled.fullmatch(text, *args)
        return self._remembered("fullmatch", text)

    def search(self, text: Any, *args: Any) -> Any:
        if args:
            return self._compiled.search(text, *args)
        return self._remembered("search", text)

    def match(self, text: Any, *args: Any) -> Any:
        if args:
            return self._compiled.match(text, *args)
        return self._remembered("match", text)

    def __repr__(self) -> str:
        return f"LinearPattern({self.pattern!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LinearPattern) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)


def compile_linear(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (``match``, ``fullmatch``, ``search``, ``groupdict``
    as in ``re``); PatternError when it does not compile or needs backtracking."""
    try:
        return LinearPattern(pattern, re2.compile(pattern, _OPTIONS))
    except re2.error as err:
        first = err.args[0] if err.args else ""
        reason = first.decode("utf-8", "replace") if isinstance(first, bytes) else str(first)
        hint = ""
        if any(token in pattern for token in ("(?=", "(?!", "(?<=", "(?<!")) or _backreference(pattern):
            hint = " (featmesh matches in linear time: backreferences and lookaround are not supported)"
        raise PatternError(f"{reason}{hint}") from None


def _backreference(pattern: str) -> bool:
    return any(f"\\{d}" in pattern for d in "123456789") or "(?P=" in pattern


def glob(pattern: str) -> Any:
    """A shell-style pattern (``*``, ``?``, ``[abc]``, ``[!abc]``) as a linear-time
    regex matching the whole text."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        char = pattern[i]
        i += 1
        if char == "*":
            out.append("(?s:.*)")
        elif char == "?":
            out.append("(?s:.)")
        elif char == "[":
            end = i + 1 if i < n and pattern[i] in "!]" else i
            end = pattern.find("]", end + 1 if end < n and pattern[end] == "]" else end)
            if end < 0:
                out.append("\\[")
                continue
            body = pattern[i:end].replace("\\", "\\\\")
            i = end + 1
            if body.startswith("!"):
                body = "^" + body[1:]
            elif body.startswith("^"):
                body = "\\" + body
            out.append(f"[{body}]")
        else:
            out.append(re2.escape(char))
    return compile_linear("^" + "".join(out) + "$")


__all__ = ["PatternError", "compile_linear", "glob"]

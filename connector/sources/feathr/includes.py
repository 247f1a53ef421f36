"""HOCON ``include`` statements, resolved by featmesh rather than by pyhocon.

pyhocon follows any include it meets, at any depth (``x { include url("http://...") }``,
``include file("/etc/passwd")``, ``include package(...)``). featmesh finds every
include itself, outside strings and comments, wherever it stands (top level, inside
an object, as a value), and allows only ``include "RELATIVE.conf"`` or
``include file("RELATIVE.conf")`` (optionally ``required(...)``) naming a file inside
the workspace folder. URLs, ``classpath(...)``, ``package(...)``, absolute paths, a
path leading out of the workspace and glob patterns are input errors naming the file
and line, as are a missing required file and a cycle. An optional include of a
missing file is skipped, as HOCON says (https://github.com/lightbend/config/blob/main/HOCON.md#includes).

The included file's fields take the place of the statement (its outer braces
dropped; wrapped in braces where the include is a value), so pyhocon parses one text
holding no include at all. :class:`Expanded` maps a line of that text back to the
file and line it came from.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

from featmesh.connector.documents import read_text
from featmesh.connector.errors import InputError

_KEYWORD = re.compile(r"(?<![A-Za-z0-9_$])include(?![A-Za-z0-9_$])", re.IGNORECASE)
_QUOTED = r'"((?:[^"\\\n]|\\.)*)"'
_STATEMENT = re.compile(
    r"include[ \t]+(?P<required>required[ \t]*\([ \t]*)?"
    r"(?:(?P<kind>[A-Za-z_]+)[ \t]*\([ \t]*" + _QUOTED + r"[ \t]*\)|" + _QUOTED + r")"
    r"(?(required)[ \t]*\))",
    re.IGNORECASE,
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
MAX_DEPTH = 32


@dataclass
class Expanded:
    """The text with every include replaced, and where each of its parts came from."""

    text: str = ""
    files: list[Path] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)
    _origins: list[tuple[Path, int]] = field(default_factory=list)

    def add(self, text: str, path: Path, line: int) -> None:
        """Append ``text`` (a piece of ``path`` starting at ``line``)."""
        self._starts.append(self.text.count("\n") + 1)
        self._origins.append((path, line))
        self.text += text

    def locate(self, line: int) -> tuple[Path, int]:
        """The file and line a line of :attr:`text` came from."""
        i = max(0, bisect.bisect_right(self._starts, line) - 1)
        path, first = self._origins[i]
        return path, first + line - self._starts[i]


def _code_spans(text: str) -> list[tuple[int, int]]:
    """The parts of ``text`` outside strings and comments, as (start, end)."""
    spans = []
    i, start, n = 0, 0, len(text)
    while i < n:
        if text.startswith('"""', i):
            spans.append((start, i))
            end = text.find('"""', i + 3)
            i = n if end < 0 else end + 3
            while i < n and text[i] == '"':
                i += 1
            start = i
        elif text[i] == '"':
            spans.append((start, i))
            i += 1
            while i < n and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
            i += 1
            start = i
        elif text[i] == "#" or text.startswith("//", i):
            spans.append((start, i))
            end = text.find("\n", i)
            i = n if end < 0 else end
            start = i
        else:
            i += 1
    spans.append((start, n))
    return [(a, b) for a, b in spans if b > a]


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _innermost(text: str, offset: int) -> str | None:
    """The innermost bracket (``{`` or ``[``) open at ``offset``."""
    stack: list[str] = []
    for a, b in _code_spans(text[:offset]):
        for char in text[a:b]:
            if char in "{[":
                stack.append(char)
            elif char in "}]" and stack:
                stack.pop()
    return stack[-1] if stack else None


def _body(text: str) -> str:
    """An included file's fields: its text without the braces around its root."""
    spans = _code_spans(text)
    first = next(((a, b) for a, b in spans if text[a:b].strip()), None)
    if first is None:
        return text
    at = first[0] + len(text[first[0] : first[1]]) - len(text[first[0] : first[1]].lstrip())
    if text[at] != "{":
        return text
    for a, b in reversed(spans):
        chunk = text[a:b].rstrip()
        if chunk:
            end = a + len(chunk) - 1
            if text[end] == "}" and end > at:
                return text[:at] + " " + text[at + 1 : end] + " " + text[end + 1 :]
            break
    return text


def expand(path: Path, workspace: Path) -> Expanded:
    """``path``'s text with its includes resolved; InputError for any refused include."""
    out = Expanded()
    _expand(path, workspace.resolve(), out, (), wrap=False)
    return out


def _expand(path: Path, workspace: Path, out: Expanded, stack: tuple[Path, ...], *, wrap: bool) -> None:
    text = read_text(path)
    me = path.resolve()
    if wrap:
        text = "{" + text + "\n}"
    elif stack:
        text = _body(text)
    done, line = 0, 1
    for a, b in _code_spans(text):
        for found in _KEYWORD.finditer(text, a, b):
            if found.start() < done:
                continue
            statement = _STATEMENT.match(text, found.start())
            where = str(_line(text, found.start()))
            if statement is None:
                raise InputError(
                    '\'include\' must be followed by "FILE.conf" or file("FILE.conf")',
                    path=str(path),
                    where=where,
                )
            target = _target(statement, path, workspace, where)
            out.add(text[done : found.start()], path, line)
            line = _line(text, statement.end())
            done = statement.end()
            if target is None:
                continue
            if target in stack or target == me:
                chain = " -> ".join(str(p) for p in (*stack, me, target))
                raise InputError(f"include makes a cycle: {chain}", path=str(path), where=where)
            if len(stack) >= MAX_DEPTH:
                raise InputError(f"includes nested more than {MAX_DEPTH} deep", path=str(path), where=where)
            before = text[: found.start()].rstrip()
            as_value = before.endswith(("=", ":")) or _innermost(text, found.start()) == "["
            out.add("\n", path, line)
            _expand(target, workspace, out, (*stack, me), wrap=as_value)
            out.files.append(target)
    out.add(text[done:], path, line)


def _target(statement: re.Match[str], path: Path, workspace: Path, where: str) -> Path | None:
    """The file an include names, or None for an optional include of a missing file."""
    kind = (statement.group("kind") or "").lower()
    name = statement.group(3) if statement.group(3) is not None else statement.group(4)
    required = statement.group("required") is not None

    def refuse(why: str) -> InputError:
        return InputError(f"include {name!r}: {why}", path=str(path), where=where)

    if kind == "url" or (kind in ("", "file") and _SCHEME.match(name)):
        raise InputError(
            "include of a URL is not followed by featmesh (only files inside the workspace)",
            path=str(path),
            where=where,
        )
    if kind in ("classpath", "package"):
        raise refuse(f"{kind}(...) includes are not followed; name a file inside the workspace")
    if kind not in ("", "file"):
        raise refuse(f"unknown include kind {kind}(...)")
    if "*" in name or "?" in name:
        raise refuse("glob patterns are not followed; name each file")
    relative = Path(name)
    if relative.is_absolute() or name.startswith(("\\", "~")):
        raise refuse("an absolute path; name a file relative to this one, inside the workspace")
    target = (path.parent / relative).resolve()
    if not target.is_relative_to(workspace):
        raise refuse(f"outside the workspace folder {workspace.name}")
    if not target.is_file():
        if required:
            raise refuse("required file not found")
        return None
    return target


__all__ = ["Expanded", "expand"]

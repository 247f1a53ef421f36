"""Parsing Feathr's HOCON files safely, with errors that name the line.

pyhocon does the parsing of a text whose includes featmesh resolved itself
(:mod:`.includes`: only relative files inside the workspace). Substitutions that only
the environment can satisfy are refused (``${HOME}``, ``${?TOKEN}``): they would copy environment
variables, secrets included, into definitions published to a catalog.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from featmesh.connector.errors import InputError, MissingExtraError
from featmesh.connector.sources.feathr.includes import Expanded, expand

_LINE = re.compile(r"line:?\s*(\d+)", re.IGNORECASE)


def parse_conf(path: Path, workspace: Path | None = None) -> Any:
    """The ConfigTree of one ``.conf`` file with its includes (files inside ``workspace``,
    by default the file's folder); InputError with the file and line when it does not parse."""
    try:
        from pyhocon import ConfigFactory, ConfigParser
        from pyhocon.exceptions import ConfigException, ConfigMissingException
        from pyparsing import ParseBaseException
    except ImportError:
        raise MissingExtraError("Reading Feathr HOCON files", "feathr", "pyhocon") from None
    expanded = expand(path, workspace or path.parent)
    try:
        tree = ConfigFactory.parse_string(expanded.text, basedir=None, resolve=False)
        _refuse_environment(tree, expanded, ConfigParser, ConfigMissingException)
        ConfigParser.resolve_substitutions(tree)
    except ParseBaseException as err:
        _syntax_of_included(expanded, workspace or path.parent)
        where, line = expanded.locate(err.lineno)
        raise InputError(f"not valid HOCON: {err.msg}", path=str(where), where=f"{line}:{err.col}") from None
    except ConfigException as err:
        _syntax_of_included(expanded, workspace or path.parent)
        found = _LINE.search(str(err))
        where, line = expanded.locate(int(found.group(1))) if found else (path, 0)
        raise InputError(
            f"not valid HOCON: {_first_line(err)}", path=str(where), where=str(line) if line else None
        ) from None
    except RecursionError:
        raise InputError("nesting too deep", path=str(path)) from None
    return tree


def _syntax_of_included(expanded: Expanded, workspace: Path) -> None:
    """The syntax error of an included file on its own, named in that file (the merged
    text can only say where it noticed)."""
    from pyhocon import ConfigFactory
    from pyparsing import ParseBaseException

    for included in expanded.files:
        alone = expand(included, workspace)
        try:
            ConfigFactory.parse_string(alone.text, basedir=None, resolve=False)
        except ParseBaseException as err:
            where, line = alone.locate(err.lineno)
            message = f"not valid HOCON: {err.msg}"
            raise InputError(message, path=str(where), where=f"{line}:{err.col}") from None


def _refuse_environment(tree: Any, expanded: Expanded, parser: Any, missing: type[Exception]) -> None:
    from pyparsing import lineno

    for substitution in parser._find_substitutions(tree):
        try:
            tree.get(substitution.variable)
        except missing:
            path, line = expanded.locate(lineno(substitution.loc, substitution.instring))
            raise InputError(
                f"${{{substitution.variable}}} is not defined in the file; featmesh does not "
                "read environment variables into feature definitions",
                path=str(path),
                where=str(line),
            ) from None


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def plain(value: Any) -> Any:
    """A ConfigTree/ConfigList as plain dicts and lists, in file order.

    pyhocon reads unquoted durations (``window: 90d``) as ``timedelta`` or dateutil's
    ``relativedelta``; they are written back as duration strings (``90d``, or ISO 8601
    ``P3M`` when months or years are involved), so that the model stays JSON.
    """
    if hasattr(value, "as_plain_ordered_dict"):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, timedelta):
        return _seconds_text(int(value.total_seconds()))
    if type(value).__name__ == "relativedelta":
        return _relative_text(value)
    return value


_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def _seconds_text(seconds: int) -> str:
    """``7776000`` -> ``90d``: the largest unit that divides the duration exactly."""
    for unit, size in _UNITS:
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _relative_text(delta: Any) -> str:
    years, months = int(delta.years or 0), int(delta.months or 0)
    seconds = (
        int(delta.days or 0) * 86400
        + int(delta.hours or 0) * 3600
        + int(delta.minutes or 0) * 60
        + int(delta.seconds or 0)
    )
    if not years and not months:
        return _seconds_text(seconds)
    text = "P" + (f"{years}Y" if years else "") + (f"{months}M" if months else "")
    return text + (f"T{seconds}S" if seconds else "")

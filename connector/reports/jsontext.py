"""JSON text of plain data, indented: the same text as ``json.dumps(value, indent=2)``.

The standard library encodes indented JSON in Python, one generator per container, which
took a third of ``featmesh report --format json`` on a large mesh (its C encoder does not
indent). Here the C encoder writes the text without indents (strings escaped and numbers
written exactly as ``json.dumps`` does) and msgspec's ``json.format``, in C too, indents it,
copying each string and number as it stands. A document holding ``NaN`` or ``Infinity``
(not JSON, which msgspec will not read) is written in one pass of plain recursion instead,
to the same characters. Only JSON data is accepted (dicts, lists and tuples, strings,
numbers, booleans, None); anything else is a ``TypeError``, as ``json.dumps`` without
``default`` gives.
"""

from __future__ import annotations

import json.encoder
from typing import Any

import msgspec

_string = json.encoder.encode_basestring_ascii
_c_encoder = getattr(json.encoder, "c_make_encoder", None)
"""The C encoder ``json.dumps`` uses when it does not indent (None where there is none)."""


def _refuse(item: Any) -> Any:
    raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")


_INFINITY = float("inf")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return _string(key)
    if isinstance(key, float):
        return _string(_float(key))
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return _string(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _null(_: None) -> str:
    return "null"


_SCALARS: dict[type, Any] = {str: _string, int: int.__repr__, float: _float, bool: _bool, type(None): _null}
"""How each scalar type is written, by exact type (a subclass takes the general path)."""
_CONTAINERS = (dict, list, tuple)


def _scalar(item: Any) -> str | None:
    """A scalar of any (sub)type, in the order ``json`` tests them; None for a container."""
    if isinstance(item, str):
        return _string(item)
    if item is None:
        return "null"
    if item is True:
        return "true"
    if item is False:
        return "false"
    if isinstance(item, int):
        return int.__repr__(item)
    if isinstance(item, float):
        return _float(item)
    return None


def dumps_indented(value: Any, indent: int = 2) -> str:
    """``json.dumps(value, indent=indent)``, faster on large documents."""
    compact = json.dumps(value)
    try:
        return msgspec.json.format(compact, indent=indent)
    except msgspec.DecodeError:  # NaN or Infinity
        return _walked(value, indent)


def _walked(value: Any, indent: int) -> str:
    out: list[str] = []
    write = out.append
    pads = ["\n"]
    scalars = _SCALARS

    def pad(level: int) -> str:
        while len(pads) <= level:
            pads.append("\n" + " " * (indent * len(pads)))
        return pads[level]

    flat: list[Any] = []

    def whole(item: Any, level: int) -> bool:
        """Write ``item`` in one call of the C encoder when its members are all scalars
        or empty containers (written the same, indented or not): its items separated by
        a comma and the next level's indent."""
        if _c_encoder is None:
            return False
        members = item.values() if isinstance(item, dict) else item
        for member in members:
            if type(member) not in scalars and (member or type(member) not in _CONTAINERS):
                return False
        while len(flat) <= level:
            separator = "," + pad(len(flat) + 1)
            flat.append(_c_encoder(None, _refuse, _string, None, ": ", separator, False, False, True))
        text = "".join(flat[level](item, 0))
        write(text[0] + pad(level + 1) + text[1:-1] + pad(level) + text[-1])
        return True

    def walk(item: Any, level: int) -> None:
        if isinstance(item, (list, tuple)):
            if not item:
                write("[]")
                return
            if whole(item, level):
                return
            inner = pad(level + 1)
            between = "[" + inner
            for member in item:
                known = scalars.get(type(member))
                if known is not None:
                    write(between + known(member))
                else:
                    write(between)
                    walk(member, level + 1)
                between = "," + inner
            write(pad(level) + "]")
        elif isinstance(item, dict):
            if not item:
                write("{}")
                return
            if whole(item, level):
                return
            inner = pad(level + 1)
            between = "{" + inner
            for key, member in item.items():
                name = _string(key) if type(key) is str else _key(key)
                known = scalars.get(type(member))
                if known is not None:
                    write(f"{between}{name}: {known(member)}")
                else:
                    write(f"{between}{name}: ")
                    walk(member, level + 1)
                between = "," + inner
            write(pad(level) + "}")
        else:
            text = _scalar(item)
            if text is None:
                raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")
            write(text)

    walk(value, 0)
    return "".join(out)

"""Control characters from metadata kept out of terminals and XML.

An owner or a description may hold BEL, ESC or other control characters. Written raw
they would ring, recolour or rewrite a terminal, and make an XML file not well-formed
(XML 1.0 allows only tab, newline and carriage return below U+0020:
https://www.w3.org/TR/xml/#charsets). They are shown as ``\\xNN`` / ``\\uNNNN`` escapes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

_TERMINAL = re.compile(r"(?!\A\r)(?!\x1b\[K)[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Controls but tab and newline; a carriage return opening a write and erase-line
(``ESC [ K``) are featmesh's own progress lines and stay."""
_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _escaped(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Any character :data:`_TERMINAL` may escape: a text without one is left as it is
without trying the lookaheads at each position (ten times slower on a large report)."""


_ASCII_CONTROLS = bytes([*range(0x09), *range(0x0B, 0x20), 0x7F])
"""The characters of :data:`_CONTROL` that are ASCII."""


def terminal(text: str) -> str:
    """``text`` for a terminal: control characters escaped."""
    if text.isascii():  # most output: a byte scan, three times the regex's speed on a large report
        raw = text.encode("ascii")
        if len(raw.translate(None, _ASCII_CONTROLS)) == len(raw):
            return text
    elif _CONTROL.search(text) is None:
        return text
    return _TERMINAL.sub(_escaped, text)


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot hold escaped."""
    return _XML.sub(_escaped, text)


def xml_tree(root: ET.Element) -> ET.Element:
    """Escape what XML 1.0 cannot hold in every text, tail and attribute of ``root``."""
    for element in root.iter():
        if element.text:
            element.text = xml_text(element.text)
        if element.tail:
            element.tail = xml_text(element.tail)
        for key, value in element.attrib.items():
            element.attrib[key] = xml_text(value)
    return root


__all__ = ["terminal", "xml_text", "xml_tree"]


def counted(n: int, noun: str) -> str:
    """``1 file``, ``2 files``: a count with its noun, for messages."""
    return f"{n} {noun}" + ("" if n == 1 else "s")

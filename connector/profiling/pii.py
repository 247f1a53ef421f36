"""PII patterns looked for in a bounded sample of a string column.

A regular expression (run by pyarrow's RE2 kernel over the whole sample) finds
candidates; card numbers must also pass the Luhn check and IBANs the ISO 7064
mod-97 check. The result names the pattern and the share of sampled values that
matched, never a value.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from featmesh.connector.model import PiiMatch


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of digits (spaces and dashes ignored)."""
    numbers = [int(c) for c in digits if c.isdigit()]
    if not 13 <= len(numbers) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(numbers)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = "".join(str(int(c, 36)) for c in rearranged)
    except ValueError:
        return False
    return int(number) % 97 == 1


def _ip_ok(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


_PHONE_DIGITS = (7, 15)


_NOT_PHONE = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$"  # dates
    r"|^-?\d+\.\d+$"  # decimal numbers
)


def _phone_ok(text: str) -> bool:
    """International (``+``/``00``) or written with separators, 7 to 15 digits; a bare
    run of digits only as a national number (leading 0, 10 or 11 digits). Not a date,
    an IP address or a Luhn-valid card number."""
    digits = sum(c.isdigit() for c in text)
    if not _PHONE_DIGITS[0] <= digits <= _PHONE_DIGITS[1]:
        return False
    if _NOT_PHONE.match(text) or _ip_ok(text) or luhn_ok(text):
        return False
    if text.isdigit():
        return (
            text.startswith("0") and not text.startswith("00") and 10 <= len(text) <= 11
        ) or text.startswith("00")
    return True


@dataclass(frozen=True)
class Pattern:
    name: str
    regex: str
    """RE2 syntax, searched in the trimmed value (anchor it to match the whole)."""
    validate: Callable[[str], bool] | None = None


PATTERNS: tuple[Pattern, ...] = (
    # An address anywhere in the value (free text holds them too); numbers only as the
    # whole value, where digits in prose would otherwise look like phones and cards.
    Pattern("email", r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
    Pattern("phone_number", r"^\+?[0-9(][0-9 ().-]{6,18}[0-9]$", _phone_ok),
    Pattern("iban", r"^[A-Za-z]{2}[0-9]{2}( ?[A-Za-z0-9]){11,30}$", iban_ok),
    Pattern("card_number", r"^[0-9]([ -]?[0-9]){12,18}$", luhn_ok),
    Pattern(
        "ip_address",
        r"^(([0-9]{1,3}\.){3}[0-9]{1,3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)$",
        _ip_ok,
    ),
)


def scan_pii(values: pa.Array, *, min_share: float = 0.0) -> tuple[PiiMatch, ...]:
    """The PII patterns found in ``values`` (a string array, nulls ignored)."""
    if values.null_count:
        values = values.drop_null()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if len(values) == 0:
        return ()
    values = pc.utf8_trim_whitespace(values.cast(pa.large_string()))
    sampled = len(values)
    found = []
    for pattern in PATTERNS:
        mask = pc.match_substring_regex(values, pattern.regex)
        hits = int(pc.sum(mask).as_py() or 0)
        if not hits:
            continue
        check = pattern.validate
        if check is not None:
            candidates = values.filter(mask).to_pylist()
            hits = sum(1 for text in candidates if check(text))
        share = hits / sampled
        if hits and share > min_share:
            found.append(PiiMatch(pattern=pattern.name, share=round(share, 4), sampled=sampled))
    return tuple(found)

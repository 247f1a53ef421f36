"""Control characters escaped for a terminal, ASCII text or not."""

from __future__ import annotations

import pytest

from featmesh.connector.textsafe import terminal


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain\ttext\nacross lines", "plain\ttext\nacross lines"),
        ("bell\x07 and escape\x1b[31m", "bell\\x07 and escape\\x1b[31m"),
        ("delete\x7f", "delete\\x7f"),
        ("\x00", "\\x00"),
        ("\rprogress 50%\x1b[K", "\rprogress 50%\x1b[K"),  # featmesh's own progress line
        ("mid\rline", "mid\\x0dline"),
        ("d\u00e9j\u00e0 vu", "d\u00e9j\u00e0 vu"),
        ("caf\u00e9\x07", "caf\u00e9\\x07"),
        ("c1 control\x9b", "c1 control\\x9b"),
        ("", ""),
    ],
)
def test_controls_are_escaped(text: str, shown: str) -> None:
    assert terminal(text) == shown


def test_a_large_ascii_report_with_one_control_is_escaped() -> None:
    text = "x" * 1_000_000 + "\x1b" + "y" * 10
    assert terminal(text) == "x" * 1_000_000 + "\\x1b" + "y" * 10
    clean = text.replace("\x1b", "z")
    assert terminal(clean) == clean

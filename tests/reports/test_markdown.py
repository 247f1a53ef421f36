"""The Markdown summary: its sections, and metadata that cannot break out of them."""

from __future__ import annotations

from featmesh.connector.reports.governance import build_report
from featmesh.connector.reports.markdown import escape, render_markdown
from tests.reports.hostile import hostile_records
from tests.reports.records import NOW, mesh_records, record


def test_escape_markdown_and_html_marks() -> None:
    assert escape("a|b") == r"a\|b"
    assert escape("run `rm -rf`") == r"run \`rm -rf\`"
    assert escape("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert escape("[click](javascript:x)") == r"\[click\](javascript:x)"
    assert escape("**bold** _it_ a&b") == r"\*\*bold\*\* \_it\_ a&amp;b"
    assert escape("two\nlines\r\nhere") == "two lines here"
    assert escape(None) == "-"


def test_summary_sections() -> None:
    text = render_markdown(build_report(mesh_records(), now=NOW))
    assert "**Mesh score 81.5** (grade B), +3.5 since the previous scan" in text
    assert "| payments | 40.0 | C | -5.0 | 0/2 | 5 |" in text
    worst = text.split("### Worst feature sets")[1].split("###")[0]
    assert worst.index("cards@1") < worst.index("ledger@1") < worst.index("scores@1")
    rules = text.split("### Most failed rules")[1].split("###")[0]
    assert "| set\\-description |" not in rules  # '-' is no mark inside a line
    assert "| set-description | warning | 3 | 3 | payments, risk |" in rules
    assert "dtype" not in rules  # only waived: not a failed rule
    waivers = text.split("### Waivers expiring within 30 days")[1]
    assert "| 2026-05-29 | expired | set-description |" in waivers
    assert "| 2026-06-11 | 10 | dtype-allowlist |" in waivers
    assert "ttl-declared" not in waivers


def test_hostile_metadata_stays_text() -> None:
    text = render_markdown(build_report(hostile_records(), now=NOW))
    assert "<script" not in text and "<img" not in text and "<svg" not in text and "</script" not in text
    assert '&lt;img src=x onerror="window.\\_\\_xss=2"&gt;' in text  # the owner, shown as text
    for section in ("### Worst feature sets", "### Waivers expiring within 30 days"):
        rows = text.split(section)[1].split("###")[0].strip().splitlines()
        header, hostile = rows[0], [r for r in rows if "xss" in r]
        assert hostile, section
        for row in hostile:  # a pipe in a value is escaped: the row keeps its columns
            assert row.replace("\\|", "").count("|") == header.count("|")


def test_a_run_without_evaluation_says_so() -> None:
    text = render_markdown(build_report([record("r", "2026-06-01T00:00:00Z", evaluated=False)], now=NOW))
    assert "> **Note:** run r (scan, ok) holds no per-feature-set evaluation" in text
    assert "### Worst feature sets" not in text

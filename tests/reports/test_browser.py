"""The HTML report in a real headless Chromium: it loads clean, draws its chart, sorts
and filters, and hostile metadata from a real scan never runs.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and
selenium (dev extra). The screenshot goes to ``test-output/report.png``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, SAMPLES, run

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = REPO / "test-output" / "report.png"

HOSTILE_MANIFEST = """\
apiVersion: featmesh/v1
store:
  name: ops-tools
  platform: feast
  domain: operations
  owner: '<img src=x onerror="window.__xss=2">'
  description: 'Ops store "><svg onload="window.__xss=3">'
entities:
  - name: agent
    join_keys:
      - {name: agent_id, dtype: string}
feature_sets:
  - name: '<b>agent_load<b>'
    version: 1
    description: >-
      Load per agent <script>window.__xss=1</script>
      then </script><script>window.__xss=4</script>
    entities: [agent]
    timestamp_field: ts
    ttl: 1d
    sources:
      - format: parquet
        uri: 'abfss://ops@contosoops.dfs.core.windows.net/agents/"><svg onload=window.__xss=5>'
    features:
      - {name: calls_1d, dtype: int64, description: 'Calls handled by the agent in a day.'}
"""


def _driver() -> Any:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(
            f"headless browser test needs {CHROMIUM} and {CHROMEDRIVER} (Debian chromium, chromium-driver)"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (dev extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        f"--user-data-dir={tempfile.mkdtemp(prefix='featmesh-chromium-')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three real scans of the sample mesh plus a hostile store, scores moving between them."""
    base = tmp_path_factory.mktemp("report")
    mesh = base / "mesh"
    shutil.copytree(SAMPLES / "manifests", mesh)
    (mesh / "ops.yaml").write_text(HOSTILE_MANIFEST)
    today = dt.datetime.now(dt.timezone.utc).date()
    waivers = base / "waivers.yaml"
    soon, later = today + dt.timedelta(days=12), today + dt.timedelta(days=90)
    waivers.write_text(
        "apiVersion: featmesh/v1\nkind: Waivers\nwaivers:\n"
        "  - {rule: dtype-allowlist, target: 'featmesh://manifest/payments/*', owner: payments@contoso.com,\n"
        f"     reason: map column kept until serving supports structs, expires: {soon}}}\n"
        "  - {rule: ttl-declared, target: 'featmesh://manifest/marketing/*', owner: marketing@contoso.com,\n"
        f"     reason: daily batch sets use the store default, expires: {later}}}\n"
    )
    catalog = f"local:{base / 'catalog.db'}"
    customer = mesh / "customer.yaml"
    assert run("scan", str(mesh), "--catalog", catalog).exit_code == 0
    customer.write_text(customer.read_text().replace("dtype: float32", "dtype: float64"))
    assert run("scan", str(mesh), "--catalog", catalog).exit_code == 0
    payments = mesh / "payments.yaml"
    payments.write_text(payments.read_text().replace("name: avgBasketSize", "name: avg_basket_size"))
    assert run("scan", str(mesh), "--catalog", catalog, "--waivers", str(waivers)).exit_code == 0
    out = base / "report.html"
    result = run("report", "--catalog", catalog, "--output", str(out))
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def browser(report_file: Path) -> Iterator[Any]:
    driver = _driver()
    try:
        driver.get(report_file.as_uri())
        yield driver
    finally:
        driver.quit()


def _visible_values(browser: Any, column: int) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#sets-table tbody tr'))"
        ".filter(r => !r.hidden).map(r => r.cells[arguments[0]].getAttribute('data-value')"
        " ?? r.cells[arguments[0]].textContent.trim())",
        column,
    )


def test_loads_without_console_errors_and_runs_its_script(browser: Any) -> None:
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
    assert browser.execute_script("return document.documentElement.dataset.reportReady") == "1"


def test_hostile_metadata_is_shown_not_run(browser: Any) -> None:
    assert browser.execute_script("return typeof window.__xss") == "undefined"
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    assert browser.execute_script("return document.querySelectorAll('svg').length") == 1
    assert browser.execute_script("return document.querySelectorAll('script').length") == 2
    cards = browser.execute_script(
        "return Array.from(document.querySelectorAll('.set-card')).map(c => c.textContent)"
    )
    hostile = [c for c in cards if "agent_load" in c]
    assert len(hostile) == 1
    assert "<b>agent_load<b>" in hostile[0]
    assert "<script>window.__xss=1</script> then </script><script>window.__xss=4</script>" in hostile[0]
    assert '"><svg onload=window.__xss=5>' in hostile[0]
    owners = browser.execute_script(
        "return Array.from(document.querySelectorAll('#rules-table td, .set-card td'))"
        ".map(c => c.textContent)"
    )
    assert any('<img src=x onerror="window.__xss=2">' in o for o in owners)


def test_chart_has_a_point_per_run(browser: Any) -> None:
    points = browser.execute_script(
        "return Array.from(document.querySelectorAll('#score-chart circle.point'))"
        ".map(c => { const b = c.getBBox(); return [c.dataset.run, b.width, b.height]; })"
    )
    assert len(points) == 3
    assert all(w > 0 and h > 0 for _, w, h in points)
    line = browser.execute_script(
        "const b = document.querySelector('#score-chart .mesh-line').getBBox(); return [b.width, b.height]"
    )
    assert line[0] > 100
    domains = browser.execute_script("return document.querySelectorAll('#score-chart .domain-line').length")
    assert domains == 5  # customer, marketing, operations, payments, risk


def test_sets_table_sorts_by_score_when_clicked(browser: Any) -> None:
    button = browser.find_element("css selector", "#sets-table thead th:nth-child(4) button")
    button.click()
    ascending = [float(v) for v in _visible_values(browser, 3)]
    assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
    button.click()
    assert [float(v) for v in _visible_values(browser, 3)] == sorted(ascending, reverse=True)
    name_button = browser.find_element("css selector", "#sets-table thead th:nth-child(1) button")
    name_button.click()
    names = _visible_values(browser, 0)
    assert names == sorted(names, key=str.lower)


def test_sets_filter_hides_rows_and_cards(browser: Any) -> None:
    box = browser.find_element("css selector", "#sets-filter")
    total = len(_visible_values(browser, 1))
    box.send_keys("payments")
    domains = _visible_values(browser, 1)
    assert 0 < len(domains) < total and set(domains) == {"payments"}
    cards = browser.execute_script("return document.querySelectorAll('.set-card:not([hidden])').length")
    assert cards == len(domains)
    assert browser.find_element("css selector", '[data-count="sets"]').text == f"{len(domains)} of {total}"
    box.clear()
    box.send_keys(" ")  # an input event with nothing to match shows every row again
    assert len(_visible_values(browser, 1)) == total


def test_screenshot(browser: Any, report_file: Path) -> None:
    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser.get(report_file.as_uri())  # as first opened: unsorted, unfiltered, at the top
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(height, 6000))
    assert browser.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

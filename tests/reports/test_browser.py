"""The HTML report in a real headless Chromium: it loads clean, draws its chart, sorts
and filters, and hostile metadata from a real scan never runs.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and
selenium (dev extra). The screenshots go to ``test-output/report.png`` (the sample mesh,
its models in the mesh map) and ``test-output/mesh-map-500.png`` (the map of 500 sets).
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
MAP_SCREENSHOT = REPO / "test-output" / "mesh-map-500.png"

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
    shutil.copy(SAMPLES / "models" / "risk-models.yaml", mesh / "risk-models.yaml")
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
    svgs = "return document.querySelectorAll('svg:not(#score-chart):not(.mesh-map)').length"
    assert browser.execute_script(svgs) == 0
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


def test_mesh_map_draws_each_domain_with_models_and_links_to_sections(browser: Any) -> None:
    browser.get(browser.current_url.split("#")[0])
    groups = browser.execute_script(
        "return Array.from(document.querySelectorAll('details.mesh-domain')).map(d => [d.dataset.domain,"
        " d.open, d.querySelectorAll('g.map-node').length])"
    )
    assert {g[0] for g in groups} == {"customer", "marketing", "operations", "payments", "risk"}
    assert all(open_ and nodes > 0 for _, open_, nodes in groups)
    models = browser.execute_script(
        "return Array.from(document.querySelectorAll('details[data-domain=\"risk\"] g.map-node.model'))"
        ".map(g => { const b = g.getBBox(); return [g.textContent, b.width, b.height]; })"
    )
    names = " ".join(m[0] for m in models)
    assert "credit-limit-model" in names and "fraud-scoring-service" in names
    assert all(w > 100 and h > 10 for _, w, h in models)
    overflow = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg.mesh-map g.map-node'))"
        ".filter(g => g.querySelector('text').getComputedTextLength()"
        " > g.querySelector('rect').width.baseVal.value - 8)"
        ".map(g => g.textContent)"
    )
    assert overflow == []  # every label fits its box
    bad = browser.execute_script("return document.querySelectorAll('svg.mesh-map g.state-bad').length")
    assert bad > 0  # the sample mesh has non-compliant sets
    link = browser.find_element("css selector", "svg.mesh-map a.map-link[href^='#set-']")
    target = browser.execute_script("return arguments[0].getAttribute('href')", link)[1:]
    browser.execute_script(f"document.getElementById('{target}').open = false")
    link.click()
    assert browser.execute_script("return location.hash") == f"#{target}"
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 5).until(  # hashchange is a task after the click: the card opens
        lambda b: b.execute_script(f"return document.getElementById('{target}').open")
    )
    model = browser.find_element("css selector", "svg.mesh-map a.map-link[href^='#consumer-']")
    model.click()
    row = browser.execute_script("return document.querySelector(location.hash).textContent")
    assert "risk" in row


def test_mesh_map_of_500_sets_is_collapsed_per_domain_and_legible(tmp_path: Path) -> None:
    from featmesh.connector.reports.governance import build_report
    from featmesh.connector.reports.html import render_html
    from tests.reports.records import NOW
    from tests.reports.test_mesh_map import big_mesh

    page = tmp_path / "big.html"
    page.write_text(render_html(build_report(big_mesh(), now=NOW)), encoding="utf-8")
    driver = _driver()
    try:
        driver.get(page.as_uri())
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
        summary = driver.execute_script(
            "const ds = Array.from(document.querySelectorAll('details.mesh-domain'));"
            "return [ds.length, ds.filter(d => d.open).length,"
            " document.getElementById('mesh').getBoundingClientRect().height]"
        )
        assert summary[0] == 10 and summary[1] == 0
        assert summary[2] < 900  # ten summary lines, not 500 boxes
        driver.find_element("css selector", "details[data-domain='d3'] summary").click()
        boxes = driver.execute_script(
            "return Array.from(document.querySelectorAll('details[data-domain=\"d3\"] g.map-node'))"
            ".map(g => { const r = g.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })"
        )
        assert len(boxes) == 61  # 5 products, 50 sets, 5 models and the mesh-wide model
        assert all(w > 100 and h >= 18 for _, _, w, h in boxes)
        spots = {(round(x), round(y)) for x, y, _, _ in boxes}
        assert len(spots) == len(boxes)  # no two nodes on top of each other
        MAP_SCREENSHOT.parent.mkdir(exist_ok=True)
        section = driver.find_element("css selector", "#mesh")
        driver.execute_script("arguments[0].scrollIntoView()", section)
        assert section.screenshot(str(MAP_SCREENSHOT))
        assert MAP_SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        driver.quit()

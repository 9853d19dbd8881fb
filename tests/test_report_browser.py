"""The report opened in a real headless Chromium: the rendered DOM and a screenshot.

Skipped (with the reason) when no Chromium is installed; ``.ci/run`` installs
Debian's ``chromium`` so CI runs these.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from policylens.report.charts import COLOURS
from policylens.report.html import write_report
from test_report_data import HOSTILE, build_inputs, expected_order, parse

pytestmark = pytest.mark.browser

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars")


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium not installed (apt-get install chromium); the browser check did not run")


def run_browser(chromium: str, *args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="policylens-chromium-") as profile:
        done = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scores, tagged = build_inputs()
    path = tmp_path_factory.mktemp("report") / "ranking report.html"  # a space, as users' names have
    write_report(path, scores, tagged, title="Browser check", settings={"open_documents": 0})
    return path


@pytest.fixture(scope="module")
def dom(chromium: str, report: Path):
    # Following the link to the second document must open its (closed) section: the inline script ran.
    return parse(run_browser(chromium, "--dump-dom", report.as_uri() + "#doc-2"))


def test_rendered_ranking_rows_are_in_order(dom) -> None:
    rows = dom.find("table", cls="ranking").find_all("tr", cls="rank-row")
    assert [r.find("a").text() for r in rows] == expected_order()


def test_rendered_chart_has_one_marker_per_document(dom) -> None:
    svg = dom.find("svg", cls="ranking-chart")
    assert len(svg.find_all("circle", cls="marker")) == 3
    assert len(svg.find_all("line", cls="whisker")) == 3


def test_rendered_heat_maps_have_a_cell_per_document_and_facet(dom) -> None:
    for table in dom.find_all("table", cls="heat"):
        columns = table.find_all("th", cls="facet")
        cells = table.find_all("td", cls="heat-cell")
        assert columns and len(cells) == 3 * len(columns)
    assert any(td.text() == "33%" for td in dom.find_all("td", cls="heat-cell"))


def test_rendered_sentences_are_highlighted_with_cues(dom) -> None:
    sentences = dom.find_all("li", cls="sent")
    classes = {c for s in sentences for c in s.classes}
    assert {"lab-centralized", "lab-sector_specific", "lab-neutral"} <= classes
    marks = dom.find_all("mark", cls="cue")
    assert any(m.text() == "one set of rules" and "cue-centralized" in m.classes for m in marks)
    assert any(m.text() == "new AI regulator" and "negated" in m.classes for m in marks)


def test_untrusted_text_stays_text_in_the_browser(dom) -> None:
    assert len(dom.find_all("script")) == 2  # only the report's own: its data and its few lines
    assert any(HOSTILE in li.text() for li in dom.find_all("li", cls="sent"))


def test_inline_script_opens_the_linked_document(dom) -> None:
    opened = [d.attrs["id"] for d in dom.find_all("details", cls="doc") if "open" in d.attrs]
    assert opened == ["doc-2"]


def test_screenshot_shows_both_hues(chromium: str, report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    run_browser(chromium, f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri())
    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16).reshape(-1, 3)

    def count(hex_colour: str) -> int:
        target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
        return int(np.sum(np.all(np.abs(pixels - target) <= 12, axis=1)))

    # markers, whiskers, badges and index numbers are drawn in the two approach colours
    assert count(COLOURS["centralized"]) > 300
    assert count(COLOURS["sector_specific"]) > 300
    assert count("#ffffff") < 0.95 * len(pixels)  # something was painted

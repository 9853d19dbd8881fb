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
def dom(chromium: str, tmp_path_factory: pytest.TempPathFactory):
    """The page with every document open (few documents: they start open)."""
    scores, tagged = build_inputs()
    path = tmp_path_factory.mktemp("report-open") / "report.html"
    write_report(path, scores, tagged, title="Browser check")
    return parse(run_browser(chromium, "--dump-dom", path.as_uri()))


@pytest.fixture(scope="module")
def linked(chromium: str, report: Path):
    # Following the link to the second document must build and open its section: the script ran.
    return parse(run_browser(chromium, "--dump-dom", report.as_uri() + "#doc-2"))


def test_rendered_ranking_rows_are_in_order(dom) -> None:
    rows = dom.find("table", cls="ranking").find_all("tr", cls="rank-row")
    assert [r.find("a").text() for r in rows] == expected_order()
    assert not any("hidden" in r.attrs for r in rows)  # one page holds them all


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
    docs = dom.find_all("details", cls="doc")
    assert [d.find("span", cls="doc-title").text() for d in docs] == expected_order()
    sentences = dom.find_all("li", cls="sent")
    classes = {c for s in sentences for c in s.classes}
    assert {"lab-centralized", "lab-sector_specific", "lab-neutral"} <= classes
    marks = dom.find_all("mark", cls="cue")
    assert any(m.text() == "one set of rules" and "cue-centralized" in m.classes for m in marks)
    assert any(m.text() == "new AI regulator" and "negated" in m.classes for m in marks)
    first = docs[0].find("ol", cls="evidence").find_all("li", cls="sent")[0]
    assert first.attrs["title"] == "P(centralized) = 0.82 · P(sector-specific) = 0.10 · P(neutral) = 0.08"
    assert first.find("span", cls="weight").text() == "+0.123"
    assert first.find("span", cls="page").text() == "p.\xa01"


def test_untrusted_text_stays_text_in_the_browser(dom) -> None:
    assert len(dom.find_all("script")) == 2  # the report's data block and its own script
    hostile = [li for li in dom.find_all("li", cls="sent") if HOSTILE in li.text()]
    assert len(hostile) == 1
    assert [m.text() for m in hostile[0].find_all("mark")] == ["registry"]


def test_inline_script_opens_the_linked_document(linked) -> None:
    opened = [d.attrs["id"] for d in linked.find_all("details", cls="doc") if "open" in d.attrs]
    assert opened == ["doc-2"]
    assert linked.find("details", id="doc-2").find("span", cls="doc-title").text() == expected_order()[1]


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


# --- a collection of 1,000 documents: the table is paged, sorted and searched by the page script ---


@pytest.fixture(scope="module")
def collection_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import pandas as pd

    from collection_data import make_collection
    from policylens.corpus.ranking import build_ranking, load_metadata

    c = make_collection(1000)
    ranking = build_ranking(c.scores, c.ids, table=load_metadata(pd.DataFrame(c.metadata), "doc_id"),
                            group_by=["region", "date:year"], tagged=c.tagged)
    path = tmp_path_factory.mktemp("collection") / "collection.html"
    ranking.to_report(path, title="A thousand documents")
    return path


def visible_rows(tree) -> list:
    rows = tree.find("table", cls="ranking").find_all("tr", cls="rank-row")
    return [r for r in rows if "hidden" not in r.attrs]


def test_large_table_starts_on_its_first_page_and_builds_only_the_opened_document(
        chromium: str, collection_report: Path) -> None:
    # one browser run: the page as it opens on a link to one document
    tree = parse(run_browser(chromium, "--dump-dom", collection_report.as_uri() + "#doc-417"))
    rows = visible_rows(tree)
    assert [int(r.attrs["data-rank"]) for r in rows] == list(range(1, 51))
    assert tree.find("span", id="page-info").text() == "page 1 of 20 · 1000 documents"
    (doc,) = tree.find_all("details", cls="doc")  # no other document is built before it is opened
    assert doc.attrs["id"] == "doc-417" and doc.find("span", cls="rank").text() == "#417"
    assert doc.find("ol", cls="evidence").find_all("li", cls="sent")
    assert "region: " in doc.find("p", cls="doc-meta").text()


def test_large_table_searches_sorts_and_pages_from_the_address(chromium: str,
                                                               collection_report: Path) -> None:
    url = collection_report.as_uri() + "#q=northmark&sort=index&dir=asc&page=2"
    tree = parse(run_browser(chromium, "--dump-dom", url))
    rows = visible_rows(tree)
    assert len(rows) == 50 and all("Northmark" in r.text() for r in rows)
    indices = [float(r.attrs["data-index"]) for r in rows]
    assert indices == sorted(indices)
    # 248 Northmark documents, plus two without metadata whose generated titles name the region
    assert tree.find("span", id="page-info").text() == "page 2 of 5 · 250 documents match"
    heads = {th.attrs["data-sort"]: th.attrs.get("aria-sort") for th in tree.find_all("th")
             if "data-sort" in th.attrs}
    assert heads["index"] == "ascending" and heads["rank"] == "none"

"""Hostile titles, file names and sentences stay text in the report, and the inline JSON stays data.

The HTML is checked as written (always) and as headless Chromium builds its DOM
(skipped with the reason when no Chromium is installed, like test_report_browser.py).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from policylens.report.html import render_report, write_report
from test_report_browser import chromium, run_browser  # noqa: F401 (the fixture is used by name)
from test_report_data import Node, build_inputs, parse

BREAKOUT = '</script><script>document.body.dataset.pwned = "1"</script>'
COMMENT = "Act <!--<script> on oversight"
IMAGE = '<img src=x onerror="document.body.dataset.pwned = 2"> & "quoted" \'single\''
REPORT_TITLE = "Ranking </title><script>alert(1)</script> <!--"
SENTENCE = "Providers must file </script><!--<script> forms & notes with the registry."
FILE = 'frameworks/"><svg onload=alert(3)>.pdf'


def _hostile() -> tuple[list, dict]:
    scores, tagged = build_inputs()
    titles = [BREAKOUT, COMMENT, IMAGE]
    out_scores, out_tagged = [], {}
    for i, (score, title) in enumerate(zip(scores, titles, strict=True)):
        doc = FILE if i == 2 else score.doc
        document = tagged[score.doc]
        sentences = tuple(dataclasses.replace(s, doc=doc, text=SENTENCE if j == 0 else s.text, cues=())
                          for j, s in enumerate(document.sentences))
        evidence = tuple(dataclasses.replace(e, text=SENTENCE) if k == 0 else e
                         for k, e in enumerate(score.evidence))
        out_scores.append(dataclasses.replace(score, doc=doc, title=title, evidence=evidence))
        out_tagged[doc] = dataclasses.replace(document, source=doc, title=title, sentences=sentences)
    return out_scores, out_tagged


def _script_data(html: str) -> dict:
    start = html.index('<script type="application/json" id="policylens-data">')
    body = html[html.index(">", start) + 1:html.index("</script>", start)]
    return json.loads(body)


def _check_dom(tree: Node, *, built: bool) -> None:
    """The page as a tree: the written HTML (``built=False``), or Chromium's DOM after the page's
    script built the opened document's section from the JSON data (``built=True``)."""
    scripts = tree.find_all("script")
    assert len(scripts) == 2  # the data block and the report's own script, nothing injected
    assert [s.attrs.get("type") for s in scripts] == ["application/json", None]
    data = json.loads(scripts[0].text())
    assert sorted(d["title"] for d in data["documents"]) == sorted([BREAKOUT, COMMENT, IMAGE])
    assert FILE in [d["doc"] for d in data["documents"]]
    # every document's sentences travel as data, exactly as written
    sentences = [s["t"] for d in data["documents"] for s in d["e"] + d["g"] + d["n"]]
    assert sum(t == SENTENCE for t in sentences) >= 3
    assert not tree.find_all("img")
    assert not [n for n in tree.iter() if any(name.startswith("on") for name in n.attrs)]
    assert "data-pwned" not in tree.find("body").attrs
    links = [a.text() for a in tree.find("table", cls="ranking").find_all("a")]
    assert sorted(links) == sorted([BREAKOUT, COMMENT, IMAGE])
    assert any(Path(FILE).name in s.text() for s in tree.find_all("span", cls="file"))
    assert FILE in [r.attrs["data-doc"] for r in tree.find_all("tr", cls="rank-row")]
    if built:  # the opened section shows the hostile sentence and source as text
        assert any(SENTENCE in li.text() for li in tree.find_all("li", cls="sent"))
        assert tree.find_all("code")
    assert tree.find("title").text() == REPORT_TITLE


def test_written_report_escapes_everything_and_its_json_cannot_end_early() -> None:
    scores, tagged = _hostile()
    html = render_report(scores, tagged, title=REPORT_TITLE)
    body = html[html.index('id="policylens-data">'):]
    body = body[:body.index("</script>")]
    assert "<!--" not in body and "<script" not in body.lower() and "</" not in body
    data = _script_data(html)
    assert {d["title"] for d in data["documents"]} == {BREAKOUT, COMMENT, IMAGE}
    _check_dom(parse(html), built=False)


@pytest.mark.browser
def test_chromium_builds_the_hostile_report_as_text(chromium: str, tmp_path: Path) -> None:  # noqa: F811
    scores, tagged = _hostile()
    path = tmp_path / "hostile <report>.html"
    write_report(path, scores, tagged, title=REPORT_TITLE, settings={"open_documents": 0})
    tree = parse(run_browser(chromium, "--dump-dom", path.as_uri() + "#doc-2"))
    _check_dom(tree, built=True)
    # the report's own script still ran after the data block: the linked section is open
    opened = [d.attrs["id"] for d in tree.find_all("details", cls="doc") if "open" in d.attrs]
    assert opened == ["doc-2"]

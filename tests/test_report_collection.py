"""The report of a large collection: size, on-demand sentences, groups, escaping of inline JSON.

Built from 1,000 generated scored documents (``collection_data``); the browser checks of the
same page are in ``test_report_browser.py``.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from collection_data import make_collection
from policylens.corpus.ranking import Ranking, build_ranking, load_metadata
from policylens.report.html import render_report
from policylens.report.payload import script_json
from test_report_data import page_data, parse

LIMIT = 8 * 1024 * 1024


def ranked(n: int = 1000, **kwargs) -> Ranking:
    c = make_collection(n, **kwargs)
    table = load_metadata(pd.DataFrame(c.metadata), "doc_id")
    return build_ranking(c.scores, c.ids, table=table, group_by=["region", "date:year"],
                         compare=("Northmark", "Westreach"), tagged=c.tagged)


@pytest.fixture(scope="module")
def big() -> tuple[Ranking, str]:
    ranking = ranked()
    return ranking, render_report(ranking.scores, ranking.tagged, collection=ranking)


def test_thousand_documents_stay_small_and_list_every_document(big) -> None:
    ranking, page = big
    assert len(page.encode()) < LIMIT
    tree = parse(page)
    rows = tree.find("table", cls="ranking").find_all("tr", cls="rank-row")
    assert [r.attrs["data-doc"] for r in rows] == [d.score.doc for d in ranking.documents]
    # only the first page is laid out at first; without JavaScript a style shows every row
    assert ["hidden" in r.attrs for r in rows] == [False] * 50 + [True] * 950
    assert "tr.rank-row[hidden] { display: table-row; }" in tree.find("noscript").text()
    data = page_data(page)
    assert len(data["documents"]) == 1000 and data["open"] == 0 and data["pageSize"] == 50
    assert all(d["e"] for d in data["documents"])  # every document keeps its evidence
    # nothing is built up front: no document section, no sentence element in the HTML
    assert not tree.find_all("details", cls="doc") and not tree.find_all("li", cls="sent")


def test_long_documents_are_held_to_the_byte_budget_and_say_what_was_left_out() -> None:
    c = make_collection(1000, sentences=40)
    long_tagged = {k: replace(t, sentences=tuple(replace(s, text=s.text + " " + "Further detail. " * 20)
                                                 for s in t.sentences)) for k, t in c.tagged.items()}
    page = render_report(c.scores, long_tagged)
    assert len(page.encode()) < LIMIT
    docs = page_data(page)["documents"]
    assert sum(d["hg"] + d["hn"] for d in docs) > 0  # the budget left sentences out, and counted them
    shown = [len(d["g"]) for d in docs]
    assert max(shown) - min(shown) <= 1  # shared out evenly, not spent on the first documents
    assert all(len(d["e"]) == len(s.evidence) for d, s in zip(docs, sorted(c.scores, key=lambda s: -s.index),
                                                                   strict=True))


def test_overview_counts_and_histogram(big) -> None:
    _, page = big
    tree = parse(page)
    assert tree.find("span", cls="n").text() == "1000"
    bins = tree.find("svg", cls="histogram").find_all("rect", cls="bin")
    assert len(bins) == 20 and sum(int(b.attrs["data-n"]) for b in bins) == 1000
    # past max_chart_documents the per-document chart and heat maps give way to the table
    assert not tree.find_all("svg", cls="ranking-chart") and not tree.find_all("table", cls="heat")


def test_group_charts_tables_and_comparison(big) -> None:
    ranking, page = big
    tree = parse(page)
    blocks = tree.find_all("div", cls="group-block")
    assert [b.attrs["data-by"] for b in blocks] == ["region", "date:year"]
    region = blocks[0]
    rows = region.find("table", cls="groups-table").find_all("tr", cls="group-row")
    groups = [g for g in ranking.groups if g.by == "region"]
    assert [r.find("td").text() for r in rows] == [g.label for g in groups]
    assert len(region.find("svg", cls="group-chart").find_all("circle", cls="group-marker")) == len(groups)
    assert not region.find_all("svg", cls="trend-chart")
    trend = blocks[1].find("svg", cls="trend-chart")
    assert len(trend.find_all("circle", cls="year-marker")) == 8  # 2018..2025; "(none)" is not a year
    text = " ".join(region.find("p", cls="comparison").text().split())
    assert text.startswith("Northmark − Westreach: +1.") and "excludes 0" in text
    # the table carries each document's group values
    head = [th.text() for th in tree.find("table", cls="ranking").find("thead").find_all("th")]
    assert head[-2:] == ["region", "date:year"]


def test_inline_json_cannot_close_the_script_or_open_a_comment() -> None:
    c = make_collection(3)
    evil = 'Stop </script><script>alert(1)</script> and <!-- here --> & "quotes" \u2028 end.'
    source = c.scores[0].doc
    t = c.tagged[source]
    sentences = (replace(t.sentences[0], text=evil, cues=()), *t.sentences[1:])
    tagged = {**c.tagged, source: replace(t, title="</script><!--", sentences=sentences)}
    scores = [replace(c.scores[0], title="</script><!--"), *c.scores[1:]]
    page = render_report(scores, tagged)
    assert page.count("</script>") == 2 and page.count("<script") == 2  # the data block and the script
    assert "<!--" not in page
    texts = [s["t"] for d in page_data(page)["documents"] for s in d["e"] + d["g"] + d["n"]]
    assert evil in texts  # the exact text survives the escaping
    assert str(script_json({"t": "</script>"})) == '{"t":"\\u003c/script\\u003e"}'

"""The HTML report rendered from hand-made scores and tagged documents (no model, no browser)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policylens import __version__
from policylens.errors import ReportError, UsageError
from policylens.nlp.types import Cue, TaggedDocument
from policylens.rank.types import FrameworkScore
from policylens.report.highlight import locate, mark_cues
from policylens.report.html import render_report, write_report
from policylens.report.settings import ReportSettings
from test_report_data import (
    HOSTILE,
    MODEL,
    build_inputs,
    cue_marks,
    document_data,
    expected_order,
    page_data,
    parse,
)


@pytest.fixture(scope="module")
def page() -> str:
    scores, tagged = build_inputs()
    return render_report(scores, tagged, title="Test <b>ranking</b>",
                         generated=datetime(2025, 3, 4, 5, 6, tzinfo=UTC))


def test_ranking_table_lists_documents_most_centralized_first(page: str) -> None:
    rows = parse(page).find("table", cls="ranking").find_all("tr", cls="rank-row")
    assert [r.find("a").text() for r in rows] == expected_order()
    assert [r.find_all("td")[0].text() for r in rows] == ["1", "2", "3"]
    assert [r.find("td", cls="index").text() for r in rows] == ["+0.369", "+0.003", "-0.632"]
    assert "lean-centralized" in rows[0].classes and "lean-sector_specific" in rows[-1].classes


def test_chart_has_one_marker_per_document_in_rank_order(page: str) -> None:
    svg = parse(page).find("svg", cls="ranking-chart")
    markers = svg.find_all("circle", cls="marker")
    assert len(markers) == 3
    xs = [float(m.attrs["cx"]) for m in markers]
    assert xs == sorted(xs, reverse=True)  # most centralized is furthest right
    assert "marker-centralized" in markers[0].classes and "marker-sector_specific" in markers[2].classes
    assert markers[0].find("title").text().startswith("#1 Harbour Artificial Intelligence Act: index +0.369")


def test_untrusted_text_is_escaped(page: str) -> None:
    assert "<script>alert" not in page
    assert r'\u003cscript\u003ealert(\"x\")\u003c/script\u003e' in page  # in the inline JSON
    assert "<b>ranking</b>" not in page and "Test &lt;b&gt;ranking&lt;/b&gt;" in page
    # the hostile sentence travels as data (shown as text by the page), with its cue located
    sentences = [s for d in page_data(page)["documents"] for s in d["e"] + d["g"]]
    sentence = next(s for s in sentences if "alert" in s["t"])
    assert sentence["t"] == HOSTILE
    assert cue_marks(sentence) == {"registry": ("c", False)}


def test_page_is_self_contained(page: str) -> None:
    tree = parse(page)
    assert not tree.find_all("link") and not tree.find_all("img") and not tree.find_all("iframe")
    assert all("src" not in s.attrs for s in tree.find_all("script"))
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls == {"http://www.w3.org/2000/svg"}  # the SVG namespace, never fetched


def test_meta_line_has_date_versions_and_model(page: str) -> None:
    meta = " ".join(parse(page).find("p", cls="meta").text().split())
    assert "Generated 2025-03-04 05:06 UTC" in meta
    assert f"policylens {__version__}" in meta
    assert f"model {MODEL}" in meta
    assert "How to read this" in page


def test_cues_are_marked_by_approach_and_negation(page: str) -> None:
    doc = document_data(page, "doc-3")  # Lowland, the most sector-specific
    marks = {k: v for s in doc["e"] + doc["g"] + doc["n"] for k, v in cue_marks(s).items()}
    assert marks["existing regulator"] == ("s", False)
    assert marks["new AI regulator"] == ("c", True)
    assert marks["central AI registry"] == ("c", True)


def test_evidence_comes_first_and_is_not_repeated(page: str) -> None:
    doc = document_data(page, "doc-1")
    evidence = doc["e"]
    assert len(evidence) == 3
    assert [round(s["w"], 3) for s in evidence] == [0.123] * 3
    others = [s["t"] for s in doc["g"]]
    assert others and not {s["t"] for s in evidence} & set(others)
    assert [s["l"] for s in doc["n"]] == ["n", "n"]
    first = evidence[0]
    assert first["l"] == "c" and first["pr"] == [0.82, 0.1, 0.08] and first["p"] == 1
    assert first["r"] in ("a", "p", "o") and 0.0 <= first["rp"] <= 1.0  # the sentence's role travels too
    assert doc["he"] == doc["hg"] == doc["hn"] == 0


def test_heat_map_cells_hold_shares(page: str) -> None:
    tree = parse(page)
    tables = tree.find_all("table", cls="heat")
    assert len(tables) == 2
    sectors = tables[0]
    header = [th.text() for th in sectors.find_all("th", cls="facet")]
    assert header == ["healthcare", "finance", "transportation", "education", "agriculture", "public sector"]
    rows = sectors.find("tbody").find_all("tr")
    assert [r.find("a").text() for r in rows] == expected_order()
    lowland = {td.attrs["data-facet"]: td for td in rows[2].find_all("td", cls="heat-cell")}
    assert lowland["finance"].text() == "17%"  # 1 of 6 sentences
    assert "1 sentence (16.7%)" in lowland["finance"].attrs["title"]
    assert "zero" in lowland["healthcare"].classes
    # the darkest public-sector cell is the largest sector share (1 of 3 sentences)
    middle = {td.attrs["data-facet"]: td for td in rows[1].find_all("td", cls="heat-cell")}
    assert "dark" in middle["public_sector"].classes
    kinds = {td.attrs["data-kind"] for td in tables[1].find_all("td", cls="heat-cell")}
    assert kinds == {"level", "instrument", "style"}


def test_few_documents_start_open_many_start_closed() -> None:
    scores, tagged = build_inputs()
    assert page_data(render_report(scores, tagged))["open"] == 3
    assert page_data(render_report(scores, tagged, settings={"open_documents": 2}))["open"] == 0


def test_caps_say_what_was_left_out() -> None:
    scores, tagged = build_inputs()
    page = render_report(scores, tagged, settings=ReportSettings(max_governance=0, max_neutral=1))
    doc = document_data(page, "doc-1")
    assert doc["g"] == [] and doc["hg"] == 2
    assert len(doc["n"]) == 1 and doc["hn"] == 1
    assert "at most 0 governance and 1 neutral sentences" in " ".join(page.split())


def test_long_sentences_are_cut_and_cues_past_the_cut_dropped() -> None:
    scores, tagged = build_inputs()
    data = page_data(render_report(scores, tagged, settings={"max_chars": 80}))
    sentences = [s for d in data["documents"] for s in d["e"] + d["g"] + d["n"]]
    hostile = next(s for s in sentences if "alert" in s["t"])
    assert hostile["t"] == HOSTILE[:80] and hostile["x"] == 1
    assert "c" not in hostile  # its cue sat past the cut
    short = next(s for s in sentences if "test bed" in s["t"])
    assert "x" not in short and list(cue_marks(short)) == ["test bed"]


def test_document_without_sentences_is_ranked_with_a_note() -> None:
    scores, tagged = build_inputs()
    del tagged["frameworks/middle-way.pdf"]
    doc = document_data(render_report(scores, tagged), "doc-2")
    assert doc["found"] is False and doc["g"] == doc["n"] == []
    assert len(doc["e"]) == 3  # evidence comes from the score


def test_ranks_given_by_the_rank_stage_are_kept() -> None:
    scores, tagged = build_inputs()
    ranked = [s.with_rank(r) for s, r in zip(scores, (3, 1, 2), strict=True)]
    rows = parse(render_report(ranked, tagged)).find_all("tr", cls="rank-row")
    assert [r.find("a").text() for r in rows] == [scores[1].title, scores[2].title, scores[0].title]


def test_json_round_trip_loses_cue_offsets_but_cues_are_still_marked() -> None:
    scores, tagged = build_inputs()
    scores = [FrameworkScore.from_dict(s.to_dict()) for s in scores]
    tagged = {k: TaggedDocument.from_dict(t.to_dict()) for k, t in tagged.items()}
    assert all(c.start == c.end == 0 for t in tagged.values() for s in t.sentences for c in s.cues)
    data = page_data(render_report(scores, tagged))
    marks = {k for d in data["documents"] for s in d["e"] + d["g"] + d["n"] for k in cue_marks(s)}
    assert marks >= {"one set of rules", "new AI regulator", "test bed", "registry"}


def test_empty_ranking_still_renders() -> None:
    tree = parse(render_report([], {}))
    assert "No documents were ranked." in tree.find("table", cls="ranking").text()
    assert not tree.find_all("circle", cls="marker")


def test_title_falls_back_to_the_file_name() -> None:
    scores, tagged = build_inputs()
    scores = [replace(s, title="") for s in scores]
    tagged = {k: replace(t, title="  ") for k, t in tagged.items()}
    table = parse(render_report(scores, tagged)).find("table", cls="ranking")
    names = [a.text() for a in table.find_all("a")]
    assert names == ["harbour-act.txt", "middle-way.pdf", "lowland-guidance.md"]


def test_write_report_writes_the_file_atomically(tmp_path: Path) -> None:
    scores, tagged = build_inputs()
    target = tmp_path / "out" / "report.html"
    write_report(target, scores, tagged, title="policylens ranking")
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]  # no temporary file left
    assert target.stat().st_mode & 0o644 == 0o644


def test_write_report_into_an_impossible_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    scores, tagged = build_inputs()
    with pytest.raises(ReportError, match="cannot write the report") as info:
        write_report(blocker / "report.html", scores, tagged)
    assert info.value.code == "report" and "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [{"max_neutral": -1}, {"max_chars": 10}, {"colour": "red"},
                                 {"max_governance": True}, "max_neutral=5"])
def test_bad_settings_are_usage_errors(bad: object) -> None:
    with pytest.raises(UsageError):
        ReportSettings.resolve(bad)  # type: ignore[arg-type]


def test_mark_cues_finds_cues_without_offsets_and_skips_overlaps() -> None:
    text = "A Register and a register, then a central register."
    cues = [Cue("register", "centralized"), Cue("register", "centralized"),
            Cue("central register", "centralized"), Cue("central", "centralized"),
            Cue("missing", "sector_specific")]
    spans = locate(text, cues)
    assert [(s.start, s.end) for s in spans] == [(2, 10), (17, 25), (34, 50)]
    html = str(mark_cues(text, cues))
    assert html.count("<mark") == 3 and 'title="centralized cue"' in html


def test_mark_cues_ignores_wrong_offsets_and_escapes_the_cue_text() -> None:
    text = "Use the <AI> Office & nothing else."
    html = str(mark_cues(text, [Cue("<AI> Office", "centralized", start=0, end=3)]))
    assert html == ('Use the <mark class="cue cue-centralized" title="centralized cue">'
                    "&lt;AI&gt; Office</mark> &amp; nothing else.")


def test_file_name_is_shown_under_the_title_and_odd_spaces_are_folded() -> None:
    scores, tagged = build_inputs()
    scores = [replace(scores[0], title="Chapter I\u3000 General\n Provisions"), *scores[1:]]
    row = parse(render_report(scores, tagged)).find("tr", cls="rank-row")
    assert row.find("a").text() == "Chapter I General Provisions"
    assert row.find("span", cls="file").text() == "harbour-act.txt"


def test_hostile_document_title_is_escaped_in_chart_table_and_heat_map() -> None:
    scores, _ = build_inputs()
    evil = '"><svg onload=alert(1)>'
    scores = [replace(scores[0], title=evil, doc='x" onmouseover="alert(1)'), *scores[1:]]
    page = render_report(scores, {})
    assert "<svg onload" not in page and 'onmouseover="alert' not in page
    tree = parse(page)
    assert len(tree.find_all("svg")) == 2  # the histogram and the ranking chart: no injected one
    assert tree.find("svg", cls="ranking-chart").find("a").text() == evil
    assert document_data(page, "doc-1")["title"] == evil
    assert tree.find("tr", cls="rank-row").attrs["data-doc"] == 'x" onmouseover="alert(1)'
    assert tree.find("table", cls="heat").find("tbody").find("a").text() == evil

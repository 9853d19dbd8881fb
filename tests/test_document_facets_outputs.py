"""Document facets in every output: ``rank`` JSON/CSV/table, the store (migration m004, queries,
``corpus status``, export) and the HTML report with its facet filter (also in a real browser).

Every text below was written for these tests.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.corpus.export import export
from policylens.corpus.migrations import MIGRATIONS, migrate
from policylens.corpus.store import Fetched, Store
from policylens.nlp.document_facets import FacetEvidence, FamilyFacets
from policylens.rank.types import FrameworkScore
from policylens.report.html import render_report, write_report
from test_corpus_helpers import contract_objects
from test_report_data import build_inputs, document_data, parse

runner = CliRunner()

HEALTH = ("Hospitals must validate diagnostic software before clinicians rely on it. Patients are told when "
          "a triage tool ranks them. The health ministry funds pilot projects in three clinics.")
LENDING = ("Lenders using credit scoring models must explain each refused loan. Banks report model risk "
           "to the financial supervisor. A borrower may ask a person to review an automated decision.")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("texts")
    (root / "health.txt").write_text(HEALTH + "\n", encoding="utf-8")
    (root / "lending.txt").write_text(LENDING + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def rows(folder: Path) -> list[dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, ["rank", str(folder), "--format", "json", "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_rank_json_gives_every_document_its_facets_with_evidence(rows) -> None:  # type: ignore[no-untyped-def]
    for row in rows:
        facets = row["document_facets"]
        assert list(facets) == ["sector", "instrument"]
        for family in facets.values():
            assert set(family) == {"labels", "probs", "evidence", "mentions", "model_version"}
            assert set(family["labels"]) <= set(family["probs"]) and family["model_version"]
            assert all(0.0 <= p <= 1.0 for p in family["probs"].values())
            assert set(family["evidence"]) == set(family["labels"])
            for items in family["evidence"].values():
                assert items and all({"sentence_id", "text", "page", "matched"} == set(e) for e in items)
    by_name = {Path(r["doc"]).name: r["document_facets"]["sector"] for r in rows}
    assert "healthcare" in by_name["health.txt"]["labels"]
    assert by_name["health.txt"]["mentions"]["healthcare"] >= 2
    assert by_name["lending.txt"]["probs"]["finance"] > by_name["health.txt"]["probs"]["finance"]


def test_rank_facets_option(folder: Path) -> None:
    one = str(folder / "health.txt")
    agora = runner.invoke(app, ["rank", one, "--format", "json", "--facets", "agora", "--workers", "1"])
    assert agora.exit_code == 0, agora.stderr
    assert list(json.loads(agora.stdout)[0]["document_facets"]) == ["sector", "instrument", "agora"]
    none = runner.invoke(app, ["rank", one, "--format", "json", "--facets", "none", "--workers", "1"])
    assert json.loads(none.stdout)[0]["document_facets"] == {}
    bad = runner.invoke(app, ["rank", one, "--facets", "sectors"])
    assert bad.exit_code == 2 and "unknown facet family 'sectors'" in bad.stderr


def test_rank_csv_and_table_show_the_assigned_values(folder: Path) -> None:
    result = runner.invoke(app, ["rank", str(folder / "health.txt"), "--format", "csv", "--workers", "1"])
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["document_sector"].startswith("healthcare:0.")
    assert row["document_agora"] == ""  # not asked for
    table = runner.invoke(app, ["rank", str(folder / "health.txt"), "--workers", "1"], env={"COLUMNS": "200"})
    assert "sector: healthcare" in table.stdout


# --- the store ----------------------------------------------------------------------

FACETS = {
    "sector": FamilyFacets(labels=("finance",), probs={"finance": 0.81, "healthcare": 0.12},
                           evidence={"finance": (FacetEvidence(0, "Sentence 0 about governance.", 1),
                                                 FacetEvidence(2, "Sentence 2 about governance.", 1))},
                           mentions={"finance": 3}, model_version="sector-v1"),
    "instrument": FamilyFacets(labels=(), probs={"audit_assessment": 0.2}, evidence={}, mentions={},
                               model_version="instrument-v1"),
}


def _fetched(store: Store, data: bytes, url: str) -> Fetched:
    return Fetched(sha256=store.objects.put_bytes(data), size=len(data), source=url, kind="txt")


def _record(store: Store, doc_id: str, facets: dict[str, FamilyFacets]) -> None:
    from policylens.corpus.manifest import ManifestEntry

    store.add_document(ManifestEntry(id=doc_id, title=doc_id, jurisdiction="XX", year=2024, doc_type="law",
                                     url=f"https://x.org/{doc_id}.txt"))
    document, tagged, score = contract_objects(f"https://x.org/{doc_id}.txt")
    store.record_version(doc_id, _fetched(store, doc_id.encode(), f"https://x.org/{doc_id}.txt"), document,
                         tagged, replace(score, document_facets=facets))


def test_store_keeps_one_row_per_facet_value_and_answers_queries(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        _record(store, "a", FACETS)
        _record(store, "b", {**FACETS, "sector": replace(FACETS["sector"], labels=(),
                                                         probs={"finance": 0.3, "healthcare": 0.2})})
        rows = store.db.execute("SELECT family, label, prob, assigned, mentions, evidence, f.model_version "
                                "FROM document_facets f JOIN scores s ON s.id = f.score_id "
                                "WHERE s.document_id = 'a' ORDER BY family, label").fetchall()
        assert [tuple(r) for r in rows] == [
            ("instrument", "audit_assessment", 0.2, 0, 0, "[]", "instrument-v1"),
            ("sector", "finance", 0.81, 1, 3, "[0, 2]", "sector-v1"),
            ("sector", "healthcare", 0.12, 0, 0, "[]", "sector-v1")]
        assert store.facet_counts() == {"sector": {"finance": 1}}
        assert store.documents_with_facet("sector", "finance") == [("a", 0.81)]
        assert store.status().document_facets == {"sector": {"finance": 1}}
        # scoring the same version again replaces its rows, it does not add to them
        _, tagged, score = contract_objects("https://x.org/a.txt")
        store.record_score("a", tagged, replace(score, document_facets={}))
        assert store.facet_counts() == {}
        [kept] = [s for s in store.latest_scores() if s.extra["id"] == "b"]
        assert kept.document_facets["sector"].probs == {"finance": 0.3, "healthcare": 0.2}


def test_a_store_from_before_document_facets_is_migrated_and_keeps_its_scores(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    db = sqlite3.connect(old, isolation_level=None)
    assert migrate(db, upto=3)[-1] == "m003_scope_role"
    db.close()
    with Store(old) as store:  # an m003 store gets m004 on open
        _record(store, "a", {})
        names = [r[0] for r in store.db.execute("SELECT name FROM migrations ORDER BY rowid")]
        assert names == [name for name, _ in MIGRATIONS] and "m004_document_facets" in names
        [score] = store.latest_scores()
        assert score.document_facets == {}
        assert store.db.execute("SELECT count(*) FROM document_facets").fetchone()[0] == 0


def test_export_and_status_show_document_facets(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        _record(store, "a", FACETS)
        assert export(store, tmp_path / "scores.parquet", what="scores") == 1
    frame = pd.read_parquet(tmp_path / "scores.parquet")
    assert json.loads(frame.loc[0, "document_sectors"]) == ["finance"]
    assert json.loads(frame.loc[0, "document_instruments"]) == []
    full = json.loads(frame.loc[0, "document_facets"])
    assert full["sector"]["evidence"]["finance"][1]["sentence_id"] == 2
    status = runner.invoke(app, ["corpus", "status", "--store", str(tmp_path / "s.db")])
    assert status.exit_code == 0 and "sector: finance 1" in status.stdout
    as_json = runner.invoke(app, ["corpus", "status", "--store", str(tmp_path / "s.db"), "--json"])
    assert json.loads(as_json.stdout)["document_facets"] == {"sector": {"finance": 1}}


def test_rank_store_decides_facets_again_from_stored_sentences(folder: Path, tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    added = runner.invoke(app, ["corpus", "add", str(folder / "health.txt"), "--store", str(store),
                                "--workers", "1"])
    assert added.exit_code == 0, added.stderr
    stored = json.loads(runner.invoke(app, ["rank", "--store", str(store), "--format", "json"]).stdout)
    assert list(stored[0]["document_facets"]) == ["sector", "instrument"]  # as the refresh decided them
    again = runner.invoke(app, ["rank", "--store", str(store), "--format", "json", "--facets", "agora"])
    assert again.exit_code == 0, again.stderr
    decided = json.loads(again.stdout)[0]["document_facets"]
    assert list(decided) == ["sector", "instrument", "agora"]
    assert decided["sector"] == stored[0]["document_facets"]["sector"]


# --- the report ---------------------------------------------------------------------

def _with_facets() -> tuple[list[FrameworkScore], dict]:  # type: ignore[type-arg]
    scores, tagged = build_inputs()
    chosen = {"Lowland sector guidance": ("finance", "transportation"),
              "Middle Way Strategy": ("public_sector",)}
    out = []
    for s in scores:
        labels = chosen.get(s.title, ())
        sector = FamilyFacets(labels=labels, probs={**{n: 0.1 for n in ("finance", "public_sector")},
                                                    **{n: 0.7 for n in labels}},
                              evidence={n: (FacetEvidence(0, f"A sentence about {n} <b>here</b>.", 1),)
                                        for n in labels},
                              mentions={n: 2 for n in labels}, model_version="m1")
        instrument = FamilyFacets(labels=("sandbox_testbed",), probs={"sandbox_testbed": 0.6},
                                  evidence={"sandbox_testbed": (FacetEvidence(1, "Test beds.", None,
                                                                              False),)},
                                  mentions={}, model_version="m2")
        out.append(replace(s, document_facets={"sector": sector, "instrument": instrument}))
    return out, tagged


def test_report_table_filter_and_document_data_show_the_facets() -> None:
    scores, tagged = _with_facets()
    page = render_report(scores, tagged)
    dom = parse(page)
    table = dom.find("table", cls="ranking")
    assert "Document facets" in [th.text() for th in table.find_all("th")]
    rows = {r.find("a").text(): r for r in table.find_all("tr", cls="rank-row")}
    lowland = rows["Lowland sector guidance"]
    assert json.loads(lowland.attrs["data-facets"]) == ["sector:finance", "sector:transportation",
                                                        "instrument:sandbox_testbed"]
    assert [c.text() for c in lowland.find_all("span", cls="chip")] == ["finance", "transportation",
                                                                        "sandbox testbed"]
    selects = {s.attrs["data-family"]: s for s in dom.find("span", cls="facet-filter").find_all("select")}
    assert list(selects) == ["sector", "instrument"]
    options = [(o.attrs["value"], o.text()) for o in selects["sector"].find_all("option")]
    assert options == [("", "any"), ("sector:finance", "finance (1)"),
                       ("sector:public_sector", "public sector (1)"),
                       ("sector:transportation", "transportation (1)")]
    anchor = lowland.attrs["data-anchor"]
    [sector, instrument] = document_data(page, anchor)["df"]
    assert sector["f"] == "sector" and [v["n"] for v in sector["v"]] == ["finance", "transportation"]
    assert sector["v"][0] == {"n": "finance", "p": 0.7, "m": 2,
                              "e": [["A sentence about finance <b>here</b>.", 1, True]]}
    assert instrument["v"][0]["e"] == [["Test beds.", None, False]]


def test_report_without_document_facets_has_no_facet_column() -> None:
    scores, tagged = build_inputs()
    dom = parse(render_report(scores, tagged))
    assert "Document facets" not in [th.text() for th in dom.find("table", cls="ranking").find_all("th")]
    assert not dom.find_all("span", cls="facet-filter")


@pytest.mark.browser
def test_facet_in_the_address_filters_the_table_and_sections_render_in_a_browser(tmp_path: Path) -> None:
    import shutil

    from test_report_browser import BROWSERS, run_browser

    chromium = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if chromium is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium); the browser check "
                    "did not run")
    scores, tagged = _with_facets()
    path = tmp_path / "facets.html"
    write_report(path, scores, tagged, settings={"open_documents": 0})
    dom = parse(run_browser(chromium, "--dump-dom", path.as_uri() + "#facet=sector:finance&doc=doc-2"))
    rows = dom.find("table", cls="ranking").find_all("tr", cls="rank-row")
    shown = [r.find("a").text() for r in rows if "hidden" not in r.attrs]
    assert shown == ["Lowland sector guidance"]
    assert "1 document match" in dom.find("span", id="page-info").text()
    section = dom.find("details", id="doc-2")
    block = section.find("dl", cls="doc-facets")
    assert [dt.text() for dt in block.find_all("dt")] == ["Sector", "Instrument"]
    evidence = block.find_all("ol", cls="facet-evidence")[0].find_all("li")
    assert evidence[0].text().startswith("A sentence about")
    assert not block.find_all("b")  # document text stays text

"""``policylens rank FOLDER --report FILE.html`` end to end: real text files, the real tagger and scorer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylens.cli import app
from test_report_data import page_data, parse

runner = CliRunner()

# Three made-up frameworks, one per file.
FILES = {
    "quarry-act.txt": ("Quarry Valley Artificial Intelligence Act", [
        "This Act sets one body of rules for all artificial intelligence systems in Quarry Valley.",
        "A single Algorithm Authority supervises every provider in every sector and may impose fines.",
        "Each high-risk system must be entered in the national register before it is placed on the market.",
        "The Authority's binding rules prevail over any guidance issued by sector regulators.",
        "This Act may be cited as the Quarry Valley Artificial Intelligence Act.",
    ]),
    "fenmoor-guidance.md": ("Fenmoor approach to AI oversight", [
        "Fenmoor will not set up a new regulator for artificial intelligence.",
        "Existing regulators will apply their own powers to artificial intelligence in their own fields.",
        "The Fenmoor Medicines Board will issue guidance on software used for diagnosis.",
        "The energy regulator will run a sandbox for grid operators testing forecasting models.",
        "The paper was discussed with industry in the spring.",
    ]),
    "tallow-plan.txt": ("Tallow Isles digital plan", [
        "The Tallow Isles will adopt a short baseline law for all systems together with a central register.",
        "Supervision in each sector stays with the regulator that already oversees it.",
        "Funding for digital skills courses will rise next year.",
    ]),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], Path, str]:
    root = tmp_path_factory.mktemp("frameworks")
    for name, (title, sentences) in FILES.items():
        heading = f"# {title}" if name.endswith(".md") else title
        (root / name).write_text(heading + "\n\n" + " ".join(sentences) + "\n", encoding="utf-8")
    target = root / "out" / "ranking.html"
    result = runner.invoke(app, ["rank", str(root), "--format", "json", "--report", str(target)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), target, result.stderr


def test_report_is_written_and_announced(run) -> None:
    _, target, stderr = run
    assert target.is_file() and f"report written to {target}" in " ".join(stderr.split())


def test_report_ranking_matches_the_command_output(run) -> None:
    ranked, target, _ = run
    tree = parse(target.read_text(encoding="utf-8"))
    rows = tree.find("table", cls="ranking").find_all("tr", cls="rank-row")
    assert [r.attrs["data-doc"] for r in rows] == [s["doc"] for s in ranked]
    shown = [float(r.find("td", cls="index").text()) for r in rows]
    assert shown == pytest.approx([s["index"] for s in ranked], abs=6e-4)  # JSON keeps 4 decimals, HTML 3
    assert len(tree.find("svg", cls="ranking-chart").find_all("circle", cls="marker")) == len(FILES)


def test_report_shows_each_documents_tagged_sentences(run) -> None:
    ranked, target, _ = run
    data = page_data(target.read_text(encoding="utf-8"))
    docs = data["documents"]
    assert len(docs) == len(FILES) and data["open"] == len(FILES)  # few documents: all start open
    shown = " ".join(s["t"] for d in docs for s in d["e"] + d["g"] + d["n"])
    for _, sentences in FILES.values():
        for sentence in sentences:
            assert sentence in shown
    # the most centralized framework's section leads with centralized evidence
    first = docs[0]["e"]
    assert first and first[0]["l"] == "c"
    assert ranked[0]["doc"].endswith("quarry-act.txt") and docs[0]["doc"] == ranked[0]["doc"]
    assert any(s.get("c") for d in docs for s in d["e"] + d["g"])

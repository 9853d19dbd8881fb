"""``policylens rank`` and ``policylens diff`` end to end: real PDFs, text files, the real tagger.

Also the sample corpus target: Spearman >= 0.9 between the computed ranking and
the intended order in corpora/sample-sources/README.md.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from typer.testing import CliRunner

from policylens.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]

CENTRAL = [
    "The Law on Intelligent Systems of the Republic of Pemberly applies to every sector alike.",
    "A single Intelligent Systems Board supervises all providers and may fine any of them.",
    "Every high-risk system must be entered in the national register before it is sold.",
    "The same four risk classes apply to all systems regardless of where they are used.",
    "The Board's binding rules take precedence over the guidance of sector supervisors.",
    "The law was published on 3 February 2025.",
    "Section 2 defines the terms used in this law.",
]
SECTOR = [
    "Pemberly's neighbour, the Sallow Cantons, will not create a new regulator for intelligent systems.",
    "Each existing regulator will apply its current powers to intelligent systems in its own field.",
    "The Cantonal Health Board will publish guidance on diagnostic software.",
    "Rules will depend on the context of use and be settled case by case.",
    "The Cantonal Bank Supervisor will run a sandbox for lenders testing new models.",
    "The statement was approved by the cantonal council in June.",
]
BALANCED = [
    "The Ferrow Islands will adopt a baseline law for all systems with a central register.",
    "Supervision of each sector stays with the regulator that already oversees it.",
    "The baseline law enters into force in 2027.",
    "Funding of two million is set aside for training courses.",
]


def write_pdf(path: Path, title: str, sentences: list[str]) -> None:
    """A two-page PDF with a title and one sentence per line."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    half = (len(sentences) + 1) // 2
    for page, chunk in enumerate((sentences[:half], sentences[half:]), start=1):
        y = 780
        if page == 1:
            pdf.setFont("Helvetica-Bold", 15)
            pdf.drawString(60, y, title)
            y -= 40
        pdf.setFont("Helvetica", 10)
        for line in chunk:
            pdf.drawString(60, y, line)
            y -= 18
        pdf.drawString(280, 40, f"Page {page}")
        pdf.showPage()
    pdf.save()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("frameworks")
    write_pdf(root / "pemberly.pdf", "Law on Intelligent Systems", CENTRAL)
    (root / "nested").mkdir()
    (root / "nested" / "sallow.txt").write_text("Policy statement of the Sallow Cantons\n\n"
                                                + " ".join(SECTOR) + "\n", encoding="utf-8")
    (root / "ferrow.md").write_text("# Ferrow Islands AI Plan\n\n" + " ".join(BALANCED) + "\n",
                                    encoding="utf-8")
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is not really a PDF at all\n")
    (root / "notes.csv").write_text("ignored,because,of,suffix\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def ranked_json(folder: Path) -> tuple[int, list[dict], str]:  # type: ignore[type-arg]
    result = runner.invoke(app, ["rank", str(folder), "--format", "json", "--workers", "1"])
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_one_corrupt_file_is_reported_and_the_rest_ranked(ranked_json) -> None:  # type: ignore[no-untyped-def]
    code, rows, stderr = ranked_json
    assert code == 1
    assert "broken.pdf" in stderr and "1 of 4 documents failed" in stderr
    assert [Path(r["doc"]).name for r in rows] == ["pemberly.pdf", "ferrow.md", "sallow.txt"]
    assert [r["rank"] for r in rows] == [1, 2, 3]


def test_json_rows_follow_the_documented_shape(ranked_json) -> None:  # type: ignore[no-untyped-def]
    rows = ranked_json[1]
    first = rows[0]
    assert {"doc", "title", "rank", "index", "ci_low", "ci_high", "n_sentences", "counts", "facets",
            "evidence"} <= set(first)
    assert first["index"] > 0.3 > -0.3 > rows[-1]["index"]
    assert first["ci_low"] <= first["index"] <= first["ci_high"]
    assert set(first["counts"]) == {"centralized", "sector_specific", "neutral"}
    assert sum(first["counts"].values()) == first["n_sentences"]
    pages = {e["page"] for e in first["evidence"]}
    assert pages <= {1, 2} and pages  # evidence carries PDF page numbers
    assert all({"text", "label", "page", "weight"} <= set(e) for e in first["evidence"])


def test_csv_flattens_one_row_per_document(folder: Path) -> None:
    result = runner.invoke(app, ["rank", str(folder / "pemberly.pdf"), str(folder / "nested"),
                                 "--format", "csv", "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [Path(r["doc"]).name for r in rows] == ["pemberly.pdf", "sallow.txt"]
    assert float(rows[0]["index"]) > float(rows[1]["index"])
    assert int(rows[0]["n_centralized"]) + int(rows[0]["n_sector_specific"]) + int(rows[0]["n_neutral"]) \
        == int(rows[0]["n_sentences"])
    assert rows[0]["top_centralized"]


def test_table_and_two_workers_give_the_same_order(folder: Path) -> None:
    result = runner.invoke(app, ["rank", str(folder), "--workers", "2"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    position = {name: next(i for i, line in enumerate(lines) if name in line)
                for name in ("pemberly.pdf", "ferrow.md", "sallow.txt")}
    assert position["pemberly.pdf"] < position["ferrow.md"] < position["sallow.txt"]


@pytest.mark.parametrize("args,message", [
    (["--format", "xml"], "'xml' is not one of"),
    (["--method", "astrology"], "unknown method"),
    (["--store", "somewhere"], "either documents or --store"),
    (["--report", "out.pdf"], "HTML"),
])
def test_bad_options_are_usage_errors(folder: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["rank", str(folder), *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_store_option_reads_a_store_and_never_creates_one(tmp_path: Path) -> None:
    from policylens.corpus.store import Store

    missing = runner.invoke(app, ["rank", "--store", str(tmp_path / "typo.db")])
    assert missing.exit_code == 2 and "no store at" in missing.stderr
    assert not (tmp_path / "typo.db").exists()
    with Store(tmp_path / "store.db"):
        pass
    empty = runner.invoke(app, ["rank", "--store", str(tmp_path / "store.db"), "--format", "json"])
    assert empty.exit_code == 0, empty.stderr
    assert json.loads(empty.stdout) == []


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["rank", str(tmp_path / "nothing-here")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_report_option_writes_html_or_fails_cleanly(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = runner.invoke(app, ["rank", str(folder / "pemberly.pdf"), "--report", str(target),
                                 "--workers", "1"])
    try:
        import policylens.report.html  # noqa: F401
    except ImportError:
        assert result.exit_code == 2 and "HTML report is not available" in result.stderr
        assert not target.exists()
    else:
        assert result.exit_code == 0, result.stderr
        assert "<html" in target.read_text(encoding="utf-8").lower()


def test_diff_command_on_two_versions(tmp_path: Path) -> None:
    old, new = tmp_path / "introduced.txt", tmp_path / "passed.txt"
    old.write_text("Bill on Intelligent Systems\n\n" + " ".join(SECTOR[1:5]) + "\n", encoding="utf-8")
    new.write_text("Bill on Intelligent Systems\n\n" + " ".join(SECTOR[1:3] + CENTRAL[1:4]) + "\n",
                   encoding="utf-8")
    result = runner.invoke(app, ["diff", str(old), str(new), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["delta"] > 0.3
    assert any("national register" in s["text"] for s in data["added"])
    assert any("case by case" in s["text"] for s in data["removed"])
    table = runner.invoke(app, ["diff", str(old), str(new)])
    assert table.exit_code == 0 and "added" in table.stdout


def test_sample_corpus_ranks_in_the_intended_order() -> None:
    from scipy.stats import spearmanr

    samples = sorted((ROOT / "corpora" / "samples").glob("*.pdf"))
    assert len(samples) >= 10
    result = runner.invoke(app, ["rank", str(ROOT / "corpora" / "samples"), "--format", "json",
                                 "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    intended = {p.name: i for i, p in enumerate(samples, start=1)}  # 01 = most centralized
    computed = [r["rank"] for r in rows]
    expected = [intended[Path(r["doc"]).name] for r in rows]
    rho = spearmanr(computed, expected).statistic
    assert rho >= 0.9, f"Spearman {rho:.3f}: {[Path(r['doc']).stem for r in rows]}"


def test_failure_lines_keep_square_brackets_in_names_and_codes(tmp_path: Path) -> None:
    # Regression: rich read "[draft]" and "[empty_file]" as markup and dropped them.
    (tmp_path / "bad [draft].pdf").write_bytes(b"")
    (tmp_path / "ok.md").write_text("# Plan\n\nSector regulators will apply their existing powers to AI.\n",
                                    encoding="utf-8")
    result = runner.invoke(app, ["rank", str(tmp_path), "--format", "json", "--workers", "1"])
    assert result.exit_code == 1
    assert "bad [draft].pdf: the file is empty [empty_file]" in result.stderr
    assert [r["doc"].endswith("ok.md") for r in json.loads(result.stdout)] == [True]


def test_folder_markdown_and_text_suffixes_are_ranked_not_skipped(tmp_path: Path) -> None:
    # the extractor reads .markdown and .text; rank used to search folders for a shorter list
    (tmp_path / "ferrow.markdown").write_text("# Ferrow Islands AI Plan\n\n" + " ".join(BALANCED) + "\n",
                                              encoding="utf-8")
    (tmp_path / "sallow.text").write_text(" ".join(SECTOR) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["rank", str(tmp_path), "--format", "json", "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    names = sorted(Path(r["doc"]).name for r in json.loads(result.stdout))
    assert names == ["ferrow.markdown", "sallow.text"]


def test_diff_table_keeps_bracketed_text_and_lists_reworded_sentences(tmp_path: Path) -> None:
    # "[insert date]" used to be read as rich markup and vanish; reworded pairs were counted, not listed
    old, new = tmp_path / "draft.txt", tmp_path / "final.txt"
    old.write_text("Bill on Intelligent Systems\n\n" + CENTRAL[1] + "\n", encoding="utf-8")
    new.write_text("Bill on Intelligent Systems\n\n"
                   + CENTRAL[1].replace("any of them", "each of them")
                   + " This law binds every regulator from [insert date] onwards.\n", encoding="utf-8")
    data = json.loads(runner.invoke(app, ["diff", str(old), str(new), "--format", "json"]).stdout)
    assert len(data["reworded"]) == 1
    table = runner.invoke(app, ["diff", str(old), str(new)], terminal_width=200)
    assert table.exit_code == 0, table.stderr
    assert "[insert date]" in table.stdout
    assert "reworded" in table.stdout.split("\n", 1)[1]  # a row, not only the summary line


def test_every_input_failing_still_prints_empty_json_and_a_csv_header(tmp_path: Path) -> None:
    # Regression: --format json printed nothing at all when no document could be ranked.
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "login.pdf").write_text("<!DOCTYPE html><html><body>Please sign in</body></html>")
    args = ["rank", str(tmp_path), "--workers", "1"]
    as_json = runner.invoke(app, [*args, "--format", "json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == []
    assert "2 of 2 documents failed; 0 ranked" in as_json.stderr
    assert "empty.pdf" in as_json.stderr and "login.pdf" in as_json.stderr
    as_csv = runner.invoke(app, [*args, "--format", "csv"])
    assert as_csv.exit_code == 1
    assert as_csv.stdout.splitlines()[0].startswith("rank,doc,title,scope,scope_p,scope_overridden,index,")
    assert list(csv.DictReader(io.StringIO(as_csv.stdout))) == []
    assert "2 of 2 documents failed" in as_csv.stderr
    as_table = runner.invoke(app, [*args])
    assert as_table.exit_code == 1 and not as_table.stdout  # no empty table; stderr says why


@pytest.mark.timeout(180)
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_stalled_document_times_out_and_the_others_are_ranked(tmp_path: Path, workers: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # regression: a document whose parse never ended stalled the whole run
    monkeypatch.setenv("POLICYLENS_TEST_STALL", "STALL-HERE")  # the reader's test hook: loops for ever
    (tmp_path / "stuck.txt").write_text("STALL-HERE " + " ".join(CENTRAL) + "\n", encoding="utf-8")
    (tmp_path / "sallow.txt").write_text(" ".join(SECTOR) + "\n", encoding="utf-8")
    (tmp_path / "ferrow.txt").write_text(" ".join(BALANCED) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["rank", str(tmp_path), "--format", "json", "--workers", workers,
                                 "--timeout", "3"])
    assert result.exit_code == 1
    assert sorted(Path(r["doc"]).name for r in json.loads(result.stdout)) == ["ferrow.txt", "sallow.txt"]
    assert "stuck.txt: took longer than the time limit of 3 s per document" in result.stderr
    assert "[timeout]" in result.stderr
    assert "1 of 3 documents failed; 2 ranked" in result.stderr


def test_rank_timeout_must_not_be_negative(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(" ".join(SECTOR) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["rank", str(tmp_path), "--timeout", "-1"])
    assert result.exit_code == 2
    assert "--timeout" in result.stderr

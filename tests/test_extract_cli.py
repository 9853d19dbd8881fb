"""``policylens extract`` through typer's CliRunner: outputs, summary, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extract_samples import paragraph
from pdf_factory import write_encrypted_pdf, write_pdf
from policylens.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    write_pdf(root / "rules.pdf", [["# Article 1", "# Scope", paragraph(0, 4)], [paragraph(4, 4)]],
              header="Draft rules", title="Draft Rules")
    (root / "sub").mkdir()
    (root / "sub" / "notes.md").write_text("# Notes\n\n" + paragraph(8, 2) + "\n")
    (root / "sub" / "broken.pdf").write_text("<html><body>not a pdf</body></html>")
    return root


def test_single_file_prints_json_to_stdout(folder: Path) -> None:
    result = runner.invoke(app, ["extract", str(folder / "rules.pdf"), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["title"] == "Draft Rules"
    assert data["n_pages"] == 2
    assert data["quality"]["verdict"] == "good"
    assert data["blocks"][0] == {"page": 1, "kind": "heading", "section": "Article 1 Scope",
                                 "text": "Article 1 Scope"}


def test_single_bad_file_is_one_line_exit_1(folder: Path) -> None:
    result = runner.invoke(app, ["extract", str(folder / "sub" / "broken.pdf")])
    assert result.exit_code == 1
    assert "not a PDF" in result.stderr
    assert "Traceback" not in result.output
    # One message (the shared stderr console may wrap it at the terminal width).
    assert result.stderr.count("error:") == 1 and result.stderr.startswith("error:")


def test_password_option(tmp_path: Path) -> None:
    path = write_encrypted_pdf(tmp_path / "locked.pdf", [[paragraph(0, 3)]], password="pw")
    locked = runner.invoke(app, ["extract", str(path)])
    assert locked.exit_code == 1 and "pass --password" in locked.stderr
    opened = runner.invoke(app, ["extract", str(path), "--password", "pw"])
    assert opened.exit_code == 0 and "yearly summary" in opened.stdout


def test_folder_run_reports_failures_and_writes_the_rest(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["extract", str(folder), "--out", str(out), "--format", "markdown",
                                 "--workers", "2"])
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == ["notes.md", "rules.md"]
    assert (out / "rules.md").read_text().startswith("# Draft Rules\n")
    assert "2 ok, 1 failed" in result.stderr
    assert "broken.pdf" in result.stderr and "unsupported_type" in result.stderr


def test_folder_run_on_a_dask_local_cluster(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["extract", str(folder / "rules.pdf"), str(folder / "sub" / "notes.md"),
                                 "--out", str(out), "--engine", "dask", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Draft rules" not in (out / "rules.txt").read_text()
    assert (out / "notes.txt").read_text().startswith("Notes\n\n")


def test_usage_errors_exit_2(folder: Path, tmp_path: Path) -> None:
    bad_format = runner.invoke(app, ["extract", str(folder / "rules.pdf"), "--format", "yaml"])
    assert bad_format.exit_code == 2 and "'yaml' is not one of" in bad_format.stderr
    no_out = runner.invoke(app, ["extract", str(folder)])
    assert no_out.exit_code == 2 and "need --out" in no_out.stderr
    missing = runner.invoke(app, ["extract", str(tmp_path / "nope.pdf")])
    assert missing.exit_code == 2
    engine = runner.invoke(app, ["extract", str(folder / "rules.pdf"), "--pdf-engine", "magic"])
    assert engine.exit_code == 2


def test_single_file_to_out_file(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "rules.txt"
    result = runner.invoke(app, ["extract", str(folder / "rules.pdf"), "--out", str(target)])
    assert result.exit_code == 0
    assert "Article 1 Scope" in target.read_text()
    assert result.stdout == ""


def test_unwritable_out_is_one_line_exit_1_not_an_oserror_traceback(folder: Path, tmp_path: Path) -> None:
    # A path below a regular file cannot be created, not even by root (chmod would not stop root).
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder\n")
    one = ["extract", str(folder / "rules.pdf"), "--out", str(blocker / "rules.txt")]
    several = ["extract", str(folder / "rules.pdf"), str(folder / "sub" / "notes.md"),
               "--out", str(blocker / "out")]
    for args in (one, several):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit)  # a clean exit, not an escaped OSError
        assert "Traceback" not in result.output and not result.stdout
        assert result.stderr.startswith("error:") and result.stderr.count("error:") == 1
        assert str(blocker) in result.stderr and "a file stands where a folder is needed" in result.stderr
    assert blocker.read_text() == "a file, not a folder\n"

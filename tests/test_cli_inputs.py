"""``extract -`` reads stdin, and every closed set of option values is a choice ``--help`` lists."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extract_samples import paragraph
from pdf_factory import write_pdf
from policylens.cli import app

runner = CliRunner()


def test_extract_dash_reads_text_from_stdin() -> None:
    body = paragraph(0, 2)
    result = runner.invoke(app, ["extract", "-", "--format", "json"], input=f"Rules on Scoring\n\n{body}\n")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"] == "<stdin>"
    assert [b["text"] for b in data["blocks"]] == ["Rules on Scoring", body]


def test_extract_dash_recognises_pdf_and_html_by_content(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "rules.pdf", [["# Article 1", paragraph(0, 3)]], title="Piped Rules")
    # a real pipe into a real process: the bytes of a PDF are not text
    done = subprocess.run([sys.executable, "-m", "policylens.cli", "extract", "-", "--format", "json"],
                          input=pdf.read_bytes(), capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()
    data = json.loads(done.stdout)
    assert data["title"] == "Piped Rules" and data["n_pages"] == 1 and data["source"] == "<stdin>"
    page = "<!DOCTYPE html><html><head><title>Piped Page</title></head><body><p>Kept.</p></body></html>"
    result = runner.invoke(app, ["extract", "-"], input=page)
    assert result.exit_code == 0 and result.stdout == "Kept.\n"


def test_extract_dash_errors_name_stdin_and_it_must_be_alone(tmp_path: Path) -> None:
    empty = runner.invoke(app, ["extract", "-"], input="  \n")
    assert empty.exit_code == 1
    assert "<stdin>: the file is empty" in empty.stderr and "policylens-stdin" not in empty.stderr
    (tmp_path / "a.txt").write_text("Some text.\n")
    mixed = runner.invoke(app, ["extract", "-", str(tmp_path / "a.txt"), "--out", str(tmp_path / "o")])
    assert mixed.exit_code == 2 and "- (stdin) must be the only input" in mixed.stderr


def test_extract_dash_with_out_folder_names_the_file_stdin(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", "-", "--out", f"{tmp_path}/", "--format", "markdown"],
                           input="Some text here.\n")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "stdin.md").read_text().strip().endswith("Some text here.")


CHOICES = [
    (["extract"], "--format", ["text", "markdown", "json"]),
    (["extract"], "--pdf-engine", ["auto", "pdfium", "plumber"]),
    (["extract"], "--engine", ["local", "dask"]),
    (["tag"], "--format", ["table", "jsonl"]),
    (["rank"], "--format", ["table", "csv", "json", "parquet"]),
    (["rank"], "--engine", ["local", "dask"]),
    (["diff"], "--format", ["table", "json"]),
    (["corpus", "export"], "--format", ["parquet", "csv", "jsonl"]),
    (["corpus", "export"], "--what", ["sentences", "scores"]),
    (["corpus", "refresh"], "--engine", ["local", "dask"]),
]


@pytest.mark.parametrize(("command", "option", "values"), CHOICES)
def test_closed_option_values_are_choices_listed_by_help(command: list[str], option: str,
                                                         values: list[str]) -> None:
    shown = runner.invoke(app, [*command, "--help"], terminal_width=200)
    assert shown.exit_code == 0
    plain = re.sub(r"\x1b\[[0-9;]*m", "", shown.stdout)
    line = next(ln for ln in plain.splitlines() if ln.strip("│ ").startswith(option + " "))
    assert re.search(r"[\[<]" + re.escape("|".join(values)) + r"[\]>]", line.replace(" ", "")), line


@pytest.mark.parametrize(("command", "option", "values"), CHOICES)
def test_a_value_outside_the_choices_is_a_usage_error_naming_the_option(command: list[str], option: str,
                                                                        values: list[str]) -> None:
    result = runner.invoke(app, [*command, option, "bogus", "x"])
    assert result.exit_code == 2
    assert option in result.stderr and "bogus" in result.stderr

"""Diagnostics go through ``logging`` (a rich handler on stderr); top-level ``-v``/``-q`` set how much."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylens.cli import app

runner = CliRunner()
UNCLOSED = "# Plan\n\nFirst part.\n\n```\nThe rest is prose after a stray fence.\n"


@pytest.fixture
def unclosed(tmp_path: Path) -> Path:
    path = tmp_path / "plan.md"
    path.write_text(UNCLOSED, encoding="utf-8")
    return path


def test_warnings_are_logged_to_stderr_by_default(unclosed: Path) -> None:
    result = runner.invoke(app, ["extract", str(unclosed)])
    assert result.exit_code == 0
    assert "The rest is prose after a stray fence." in result.stdout
    assert "WARNING" in result.stderr and "never closed" in result.stderr
    assert "never closed" not in result.stdout  # stdout stays the result alone


def test_quiet_hides_warnings_but_not_results_or_errors(unclosed: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["-q", "extract", str(unclosed)])
    assert result.exit_code == 0 and "stray fence" in result.stdout
    assert "never closed" not in result.stderr
    (tmp_path / "empty.txt").write_text("")
    failed = runner.invoke(app, ["-q", "extract", str(tmp_path / "empty.txt")])
    assert failed.exit_code == 1 and "the file is empty" in failed.stderr


def test_verbose_shows_what_the_engine_does(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.txt").write_text("Each existing regulator will apply its current powers.\n")
    quiet = runner.invoke(app, ["rank", str(tmp_path), "--workers", "2", "--format", "json"])
    assert quiet.exit_code == 0 and "local engine" not in quiet.stderr
    result = runner.invoke(app, ["-vv", "rank", str(tmp_path), "--workers", "2", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert "DEBUG" in result.stderr and "local engine: 2 items on 2 worker processes" in result.stderr


def test_importing_the_cli_configures_no_logging() -> None:
    code = ("import logging, policylens.cli, policylens.extract.markdown; "
            "print(logging.getLogger('policylens').handlers, logging.getLogger().handlers)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          check=True)
    assert done.stdout.strip() == "[] []"

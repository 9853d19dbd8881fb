from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from policylens import __version__
from policylens.cli import app

runner = CliRunner()


def test_version_prints_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"policylens {__version__}"


def test_help_lists_exit_codes() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.stdout


def test_top_level_api_names_resolve_to_stage_functions() -> None:
    import policylens
    from policylens.nlp import tag
    from policylens.rank import analyze, score

    assert policylens.tag is tag
    assert policylens.score is score
    assert policylens.analyze is analyze
    assert policylens.Document.__name__ == "Document"


def test_folder_inside_a_hidden_folder_is_still_searched(tmp_path: Path) -> None:
    from policylens.commands._common import expand_inputs

    folder = tmp_path / ".cache" / "docs"
    (folder / ".drafts").mkdir(parents=True)
    (folder / "act.txt").write_text("The authority shall supervise.\n", encoding="utf-8")
    (folder / ".drafts" / "old.txt").write_text("An old draft.\n", encoding="utf-8")
    (folder / ".notes.txt").write_text("A hidden note.\n", encoding="utf-8")

    assert expand_inputs([folder], [".txt"]) == [folder / "act.txt"]

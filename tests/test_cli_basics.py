from __future__ import annotations

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

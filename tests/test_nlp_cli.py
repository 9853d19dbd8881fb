"""The tag-stage commands through the real CLI: tag, evaluate, agree, train."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.labels import LABELS

runner = CliRunner()

LABELLED = [
    {"id": "t1", "text": "Existing regulators will apply their own rules to AI in their sectors.",
     "label": "sector_specific", "genre": "strategy"},
    {"id": "t2", "text": "A single AI authority will license all AI systems across every sector.",
     "label": "centralized", "genre": "statute"},
    {"id": "t3", "text": "The committee met on a rainy Thursday in March.", "label": "neutral",
     "genre": "news"},
    {"id": "t4", "text": "The city opened a new public library.", "label": "neutral", "genre": "news"},
]


@pytest.fixture()
def labelled(tmp_path: Path) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in LABELLED) + "\n")
    return path


def test_tag_literal_text_as_jsonl() -> None:
    result = runner.invoke(app, ["tag", "--text", "Existing regulators will keep their own remits. "
                                 "The meeting ended early.", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["sentence_id"] for line in lines] == [0, 1]
    assert lines[0]["label"] == "sector_specific"
    assert set(lines[0]["probs"]) == set(LABELS)


def test_tag_stdin_as_table() -> None:
    text = "Rather than a new AI regulator, sector regulators lead.\n"
    result = runner.invoke(app, ["tag", "-"], input=text)
    assert result.exit_code == 0, result.output
    assert "<stdin>" in result.stdout and "sector" in result.stdout
    assert "¬new AI regulator" in result.stdout


def test_tag_text_file(tmp_path: Path) -> None:
    pytest.importorskip("policylens.extract", reason="needs the extract stage")
    from policylens import extract as extract_module

    if not hasattr(extract_module, "extract"):
        pytest.skip("the extract stage has no extract() yet")
    path = tmp_path / "note.txt"
    path.write_text("Overview\n\nThe AI Office will enforce uniform rules for all AI systems.\n")
    result = runner.invoke(app, ["tag", str(path), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert any(json.loads(line)["label"] == "centralized" for line in result.stdout.splitlines())


def test_tag_table_file_name_and_text_with_brackets_are_not_markup(tmp_path: Path) -> None:
    # Regression: "a[/]b.txt" in the table title raised rich's MarkupError (a traceback).
    folder = tmp_path / "a["
    folder.mkdir()
    path = folder / "]b.txt"
    path.write_text("The [bold] AI Office [/bold] will license all AI systems.\n")
    result = runner.invoke(app, ["tag", str(path)])
    assert result.exit_code == 0, result.output
    assert "a[/]b.txt" in result.stdout
    assert "[bold]" in result.stdout and "[/bold]" in result.stdout


@pytest.mark.parametrize("args", [["tag"], ["tag", "-", "--text", "x"], ["tag", "--text", "x", "-f", "xml"],
                                  ["tag", "/no/such/file.pdf"]])
def test_tag_usage_errors_exit_2(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2


def test_tag_with_a_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["tag", "--text", "Hello.", "--model", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "model folder not found" in result.output


def test_evaluate_json_predictions_and_breakdown(labelled: Path, tmp_path: Path) -> None:
    predictions = tmp_path / "pred.jsonl"
    result = runner.invoke(app, ["evaluate", str(labelled), "--json", "--predictions", str(predictions),
                                 "--by", "genre"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) >= {"macro_f1", "per_class", "confusion", "by"}
    assert report["per_class"]["neutral"]["support"] == 2
    assert sum(sum(row.values()) for row in report["confusion"].values()) == 4
    assert set(report["by"]) == {"news", "statute", "strategy"}
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["t1", "t2", "t3", "t4"]
    assert all(r["pred"] in LABELS and set(r["probs"]) == set(LABELS) and "genre" in r for r in rows)


def test_evaluate_table(labelled: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(labelled)])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.stdout and "confusion" in result.stdout


def test_evaluate_bad_line_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "Fine.", "label": "neutral"}\n{"text": "No label here."}\n')
    result = runner.invoke(app, ["evaluate", str(bad)])
    assert result.exit_code == 2
    assert "line 2" in result.output and "label" in result.output


def test_agree_by_id_with_kappa_and_disagreements(labelled: Path, tmp_path: Path) -> None:
    other = [dict(r) for r in LABELLED]
    other[0]["label"] = "neutral"
    b = tmp_path / "b.jsonl"
    b.write_text("\n".join(json.dumps(r) for r in other) + "\n")
    result = runner.invoke(app, ["agree", str(labelled), str(b), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["matched_by"] == "id" and data["n"] == 4
    assert data["percent_agreement"] == 75.0
    assert 0 < data["kappa"] < 1
    assert [d["id"] for d in data["disagreements"]] == ["t1"]
    table = runner.invoke(app, ["agree", str(labelled), str(b)])
    assert table.exit_code == 0 and "kappa" in table.stdout


def test_agree_by_text_and_no_overlap(labelled: Path, tmp_path: Path) -> None:
    b = tmp_path / "b.jsonl"
    b.write_text("\n".join(json.dumps({"text": r["text"], "label": r["label"]}) for r in LABELLED) + "\n")
    data = json.loads(runner.invoke(app, ["agree", str(labelled), str(b), "--json"]).stdout)
    assert data["matched_by"] == "text" and data["kappa"] == 1.0
    c = tmp_path / "c.jsonl"
    c.write_text('{"text": "Something else entirely.", "label": "neutral"}\n')
    result = runner.invoke(app, ["agree", str(labelled), str(c)])
    assert result.exit_code == 2 and "share no sentences" in result.output


def test_train_command_refuses_dev_data(tmp_path: Path) -> None:
    dev = tmp_path / "dev_sentences.jsonl"
    dev.write_text('{"id": "d", "text": "A sentence.", "label": "neutral"}\n')
    result = runner.invoke(app, ["train", "--data", str(dev), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "evaluation-only" in result.output


def test_tag_with_a_spacy_model_that_is_not_installed_is_a_clear_error() -> None:
    result = runner.invoke(app, ["tag", "--text", "Hello.", "--spacy-model", "xx_not_a_model_sm"])
    assert result.exit_code == 1
    assert "not installed" in result.output

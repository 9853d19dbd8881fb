"""Stand-off labels: sentences of real documents labelled by hash, resolved in place, trained on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spacy.language import Language

from pdf_factory import write_pdf
from policylens.errors import DataError
from policylens.nlp.pipeline import build_pipeline, load_pipeline, tag
from policylens.nlp.standoff import (
    document_sentences,
    load_standoff,
    resolve,
    sentence_sha256,
    to_standoff,
)
from policylens.nlp.train import train
from test_nlp_model import PLACES, write_annotations

LAW = [
    "Article 1. This Act lays down harmonised rules for artificial intelligence systems in all sectors.",
    "Article 2. The National AI Office shall supervise every provider and may impose fines.",
    "Article 3. The sector regulators shall keep their existing powers over banks, e.g. the "
    "duty to approve credit models.",
    "Article 4. This Act enters into force on the twentieth day after its publication.",
]


@pytest.fixture(scope="module")
def nlp() -> Language:
    return build_pipeline(classifier=False)


def _documents(root: Path) -> Path:
    docs = root / "docs"
    (docs / "laws").mkdir(parents=True)
    (docs / "laws" / "act.txt").write_text("\n\n".join(LAW) + "\n", encoding="utf-8")
    write_pdf(docs / "act.pdf", [LAW[:2], LAW[2:]], header="Official Journal of Arland")
    return docs


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_sentences_match_what_tag_produces(tmp_path: Path, nlp: Language) -> None:
    from policylens.extract import extract

    docs = _documents(tmp_path)
    for name in ("laws/act.txt", "act.pdf"):
        tagged = [s.text for s in tag(extract(docs / name), nlp=load_pipeline()).sentences]
        assert document_sentences(docs / name, nlp) == tagged
        assert len(tagged) == 4  # "e.g." does not end a sentence, the header is gone


def test_labels_resolve_from_text_and_pdf_without_storing_text(tmp_path: Path, nlp: Language) -> None:
    docs = _documents(tmp_path)
    labels = ["centralized", "centralized", "sector_specific", "neutral"]
    rows = to_standoff([(f"t-{i}", "laws/act.txt", text, label, "high")
                        for i, (text, label) in enumerate(zip(LAW, labels, strict=True))]
                       + [("p-2", "act.pdf", LAW[2], "sector_specific", None)])
    assert all("text" not in row and len(row["sha256"]) == 64 for row in rows)
    file = _write(tmp_path / "labels.jsonl", rows)
    assert "harmonised" not in file.read_text(encoding="utf-8")
    found = resolve(load_standoff(file), docs, nlp)
    assert not found.missing_documents and not found.unmatched
    by_id = {a.id: a for a in found.annotations}
    assert by_id["t-2"].text == LAW[2] and by_id["t-2"].label == "sector_specific"
    assert by_id["p-2"].text == LAW[2] and by_id["p-2"].extra == {"source": "act.pdf"}
    assert by_id["t-0"].extra == {"source": "laws/act.txt", "confidence": "high"}


def test_missing_documents_and_changed_sentences_are_reported(tmp_path: Path, nlp: Language) -> None:
    docs = _documents(tmp_path)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7\n this is not a PDF body")
    rows = [
        {"id": "a", "source": "laws/act.txt", "sha256": sentence_sha256(LAW[0]), "label": "centralized"},
        {"id": "b", "source": "laws/act.txt", "sha256": sentence_sha256("A sentence that is not there."),
         "label": "neutral"},
        {"id": "c", "source": "gone.txt", "sha256": sentence_sha256(LAW[0]), "label": "neutral"},
        {"id": "d", "source": "broken.pdf", "sha256": sentence_sha256(LAW[0]), "label": "neutral"},
    ]
    found = resolve(load_standoff(_write(tmp_path / "l.jsonl", rows)), docs, nlp)
    assert [a.id for a in found.annotations] == ["a"]
    assert found.unmatched == ["b"]
    assert found.missing_documents["gone.txt"] == "no such file"
    assert "broken.pdf" in found.missing_documents


def test_symlink_out_of_the_documents_folder_is_not_followed(tmp_path: Path, nlp: Language) -> None:
    docs = _documents(tmp_path)
    outside = tmp_path / "secret.txt"
    outside.write_text(LAW[0], encoding="utf-8")
    (docs / "link.txt").symlink_to(outside)
    rows = [{"id": "x", "source": "link.txt", "sha256": sentence_sha256(LAW[0]), "label": "neutral"}]
    found = resolve(load_standoff(_write(tmp_path / "l.jsonl", rows)), docs, nlp)
    assert found.annotations == [] and found.missing_documents == {"link.txt": "outside the documents folder"}


@pytest.mark.parametrize(("change", "message"), [
    ({"source": "../outside.txt"}, "plain path inside"),
    ({"source": "/etc/passwd"}, "plain path inside"),
    ({"source": "a\\..\\b.txt"}, "plain path inside"),
    ({"source": ""}, "non-empty relative path"),
    ({"sha256": "abc"}, "64 lower-case hex"),
    ({"label": "central"}, "is not one of"),
    ({"confidence": "medium"}, "confidence 'medium'"),
])
def test_bad_lines_are_refused_with_their_line_number(tmp_path: Path, change: dict, message: str) -> None:
    good = {"id": "a", "source": "act.txt", "sha256": "0" * 64, "label": "neutral"}
    file = _write(tmp_path / "l.jsonl", [good, {**good, "id": "b", **change}])
    with pytest.raises(DataError, match=message) as info:
        load_standoff(file)
    assert "line 2" in str(info.value)


def test_duplicate_ids_and_dev_file_names_are_refused(tmp_path: Path) -> None:
    good = {"id": "a", "source": "act.txt", "sha256": "0" * 64, "label": "neutral"}
    with pytest.raises(DataError, match="duplicate id 'a'"):
        load_standoff(_write(tmp_path / "l.jsonl", [good, good]))
    dev = _write(tmp_path / "dev_sentences.jsonl", [good])
    with pytest.raises(DataError, match="evaluation-only"):
        train(write_annotations(tmp_path / "data"), tmp_path / "m", standoff=dev, documents=tmp_path)


def test_training_adds_the_train_split_of_standoff_labels(tmp_path: Path, nlp: Language) -> None:
    data = write_annotations(tmp_path / "data")
    docs = tmp_path / "docs"
    docs.mkdir()
    lines, rows = [], []
    for n, place in enumerate(PLACES * 3):
        lines += [f"The Zembla Authority for algorithms in {place} will register all models, item {n}.",
                  f"The {place} fisheries office counted {n} boats in the harbour this year."]
    (docs / "real.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    for i, text in enumerate(document_sentences(docs / "real.txt", nlp)):
        label = "centralized" if "Zembla" in text else "neutral"
        rows += to_standoff([(f"r-{i}", "real.txt", text, label, None)])
    file = _write(tmp_path / "standoff.jsonl", rows)
    plain = train(data, tmp_path / "plain", target_prior=(1 / 3, 1 / 3, 1 / 3)).card
    card = train(data, tmp_path / "with", target_prior=(1 / 3, 1 / 3, 1 / 3),
                 standoff=file, documents=docs).card
    so = card["training_data"]["standoff"]
    assert so["labels"] == so["resolved"] == 48 and so["documents"] == 1
    assert sum(so["train"].values()) + sum(so["heldout"].values()) == 48
    assert so["heldout"] and so["missing_documents"] == {} and so["unmatched"] == []
    assert card["version"] != plain["version"]
    assert "real_shipped_priors" in card["heldout_metrics"]
    assert card["training_data"]["train"] == plain["training_data"]["train"]  # written counts only
    vocabulary = json.loads((tmp_path / "with" / "model.json").read_text(encoding="utf-8"))["features"]
    assert any("zembla" in name for name, _ in vocabulary)
    assert "stand-off labels of real sentences (standoff.jsonl): 48 of 48" in (
        tmp_path / "with" / "MODEL_CARD.md").read_text(encoding="utf-8")


def test_cli_trains_with_standoff_labels_and_needs_both_options(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from policylens.cli import app

    data = write_annotations(tmp_path / "data")
    docs = _documents(tmp_path)
    rows = to_standoff([("s-0", "laws/act.txt", LAW[1], "centralized", None),
                        ("s-1", "laws/act.txt", "Not in the document at all.", "neutral", None),
                        ("s-2", "missing.txt", LAW[1], "neutral", None)])
    file = _write(tmp_path / "standoff.jsonl", rows)
    runner = CliRunner()
    alone = runner.invoke(app, ["train", "--data", str(data), "--out", str(tmp_path / "m"),
                                "--standoff", str(file)])
    assert alone.exit_code == 2 and "go together" in alone.output
    result = runner.invoke(app, ["train", "--data", str(data), "--out", str(tmp_path / "m"),
                                 "--standoff", str(file), "--documents", str(docs)])
    assert result.exit_code == 0, result.output
    assert "1 of 3 sentences found in 1 documents" in result.output
    assert "missing.txt: no such file" in result.output
    assert "1 labelled sentences not found" in result.output


def test_evaluate_reads_standoff_labels_from_the_documents(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from policylens.cli import app

    docs = _documents(tmp_path)
    labels = ["centralized", "centralized", "sector_specific", "neutral"]
    rows = to_standoff([(f"t-{i}", "laws/act.txt", text, label, "high" if i % 2 else "low")
                        for i, (text, label) in enumerate(zip(LAW, labels, strict=True))]
                       + [("x-1", "laws/act.txt", "Not there.", "neutral", None),
                          ("x-2", "gone.pdf", LAW[0], "neutral", None)])
    file = _write(tmp_path / "labels.jsonl", rows)
    result = CliRunner().invoke(app, ["evaluate", str(file), "--documents", str(docs), "--json",
                                      "--by", "confidence", "--predictions", str(tmp_path / "p.jsonl")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 4 and set(report["by"]) == {"high", "low"}
    assert report["not_found"] == {"documents": {"gone.pdf": "no such file"}, "sentences": ["x-1"]}
    written = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in written] == LAW and all(r["source"] == "laws/act.txt" for r in written)
    assert "no such file" in result.stderr and "1 labelled sentences not found" in result.stderr


def test_agree_matches_standoff_files_by_id_and_needs_text_without_ids(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from policylens.cli import app
    from policylens.nlp.evaluate import agree

    first = to_standoff([(f"s-{i}", "act.txt", text, "neutral", None) for i, text in enumerate(LAW)])
    second = [dict(row, label="centralized") if row["id"] == "s-1" else row for row in first[1:]]
    a, b = _write(tmp_path / "a.jsonl", first), _write(tmp_path / "b.jsonl", second)
    result = agree(a, b)
    assert result["n"] == 3 and result["matched_by"] == "id" and result["unmatched"] == {"a": 1, "b": 0}
    assert result["disagreements"] == [{"id": "s-1", "text": "", "a": "neutral", "b": "centralized"}]
    shown = CliRunner().invoke(app, ["agree", str(a), str(b)])
    assert shown.exit_code == 0 and "s-1" in shown.stdout and "text" not in shown.stdout
    no_ids = _write(tmp_path / "c.jsonl", [{"label": "neutral"}])
    with pytest.raises(DataError, match="needs a 'text'"):
        agree(no_ids, b)


def test_committed_real_labels_are_safe_and_hold_no_text() -> None:
    folder = Path(__file__).resolve().parents[1] / "corpora" / "annotations" / "eval" / "real"
    labels = load_standoff(folder / "labels.jsonl")
    second = load_standoff(folder / "second_annotator_v1.jsonl")
    # 40 of the 3,359 v1.1 ids repeat a sentence another id already labels; v2.0 labels each text once.
    assert len(labels) == 3319 and len(second) == 300
    assert len({s.source for s in labels}) == 25
    for path in (folder / "labels.jsonl", folder / "second_annotator_v1.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            fields = {"id", "source", "sha256", "label", "confidence", "role", "label_v1"}
            assert set(json.loads(line)) <= fields


def test_a_standoff_set_can_be_scored_on_some_of_its_documents(tmp_path: Path) -> None:
    # what bench/tagging_v2.py --part heldout_agora does with the AGORA labels and heldout_document
    from policylens.nlp.evaluate_parts import Models, standoff_items
    from policylens.nlp.model import GovernanceModel, default_model_dir
    from policylens.nlp.role import RoleModel
    from policylens.nlp.scope import ScopeModel

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "law.txt").write_text(" ".join(LAW) + "\n", encoding="utf-8")
    note = "The minister met the board. The board agreed on a budget.\n"
    (docs / "note.txt").write_text(note, encoding="utf-8")
    nlp = build_pipeline(classifier=False)
    labels = [{"source": "law.txt", "text": LAW[1], "role": "provision", "label": "centralized"},
              {"source": "note.txt", "text": "The minister met the board.", "role": "other",
               "label": "neutral"}]
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "sentences.jsonl").write_text("".join(
        json.dumps({"id": f"s{k}", "source": r["source"], "sha256": sentence_sha256(r["text"]),
                    "role": r["role"], "label": r["label"]}) + "\n" for k, r in enumerate(labels)))
    (folder / "scopes.jsonl").write_text("".join(
        json.dumps({"source": s, "scope": sc}) + "\n"
        for s, sc in (("law.txt", "horizontal"), ("note.txt", "none"))))
    model = default_model_dir()
    models = Models(GovernanceModel.load(model), RoleModel.load(model), ScopeModel.load(model))
    both, info = standoff_items(folder, docs, models, nlp, labels_file="sentences.jsonl")
    assert [(it.source, it.role, it.scope) for it in both] == [("law.txt", "provision", "horizontal"),
                                                              ("note.txt", "other", "none")]
    assert info["unmatched"] == 0
    one, _ = standoff_items(folder, docs, models, nlp, labels_file="sentences.jsonl",
                            keep=lambda source: source == "note.txt")
    assert [it.source for it in one] == ["note.txt"] and one[0].content == both[1].content

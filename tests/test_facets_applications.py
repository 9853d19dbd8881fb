"""Hand labels of AGORA Applications: read, refused for evaluation-only documents, used in training."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from policylens.errors import DataError
from policylens.nlp.agora_labels import (
    default_application_labels,
    evaluation_only,
    read_agora,
    read_application_labels,
    sector_labels,
    split_records,
    with_application_labels,
)
from test_document_facets import _corpus

FINANCE = "Applications: Finance and investment"


def _labels(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _label(agora_id: int, *applications: str, confidence: str = "high") -> dict[str, object]:
    return {"source": f"agora/fulltext/{agora_id}.txt", "applications": list(applications),
            "confidence": confidence, "note": "written for the test"}


def _without_applications(corpus: Path, ids: set[str]) -> None:
    """Clear every Applications column of ``ids`` in the corpus's documents.csv (other tags stay)."""
    path = corpus / "agora" / "documents.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows, columns = list(reader), list(reader.fieldnames or [])
    for row in rows:
        if row["AGORA ID"] in ids:
            row.update({c: "False" for c in columns if c.startswith("Applications: ")})
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def test_labels_are_read_and_fill_only_missing_applications_of_unvalidated_documents(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus")
    _without_applications(corpus, {"101", "102", "104"})  # 104 is validated (every fourth document)
    path = _labels(tmp_path / "applications.jsonl", _label(101, "Finance and investment"),
                   _label(102, confidence="low"), _label(103, "Education"), _label(104, "Transportation"))
    labels = read_application_labels(path, evaluation_only(corpus))
    assert labels["101"].applications == {FINANCE} and labels["102"].applications == frozenset()
    assert labels["102"].confidence == "low"
    human, _, _ = split_records(read_agora(corpus / "agora" / "documents.csv", corpus / "agora" / "fulltext"),
                                evaluation_only(corpus))
    updated, used = with_application_labels(human, labels)
    by_id = {r.agora_id: r for r in updated}
    assert used == 2  # 101 and 102; 103 keeps AGORA's own Applications, validated 104 keeps its empty answer
    assert sector_labels(by_id["101"].tags) == {"finance"} and by_id["101"].hand_applications
    assert sector_labels(by_id["102"].tags) == frozenset() and by_id["102"].hand_applications
    assert "Applications: Education" not in by_id["103"].tags and not by_id["103"].hand_applications
    assert sector_labels(by_id["104"].tags) == frozenset() and not by_id["104"].hand_applications
    assert "Strategies: Pilots and testbeds" in by_id["102"].tags  # the other tags are untouched


def test_a_label_of_an_evaluation_only_document_is_refused(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus")
    path = _labels(tmp_path / "applications.jsonl", _label(101, "Finance and investment"),
                   _label(140, "Education"))  # 139-142 are evaluation-only
    with pytest.raises(DataError, match=r"140\.txt is an evaluation-only document"):
        read_application_labels(path, evaluation_only(corpus))
    from policylens.nlp.train_facets import train_facets

    with pytest.raises(DataError, match="evaluation-only"):
        train_facets(corpus, families=("sector",), application_labels=path, workers=1)


DOC = "agora/fulltext/101.txt"


@pytest.mark.parametrize(("record", "message"), [
    ({"source": DOC, "applications": ["Farming"], "confidence": "high"}, "unknown AGORA"),
    ({"source": DOC, "applications": "Education", "confidence": "high"}, "unknown AGORA"),
    ({"source": DOC, "applications": [], "confidence": "sure"}, "high or low"),
    ({"source": "other/101.txt", "applications": [], "confidence": "high"}, "not an AGORA full text"),
    ({"source": DOC, "applications": []}, "needs source, applications, confidence"),
])
def test_malformed_labels_are_refused(tmp_path: Path, record: dict[str, object], message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_application_labels(_labels(tmp_path / "a.jsonl", record), frozenset())
    with pytest.raises(DataError, match="labelled twice"):
        read_application_labels(_labels(tmp_path / "b.jsonl", _label(101), _label(101)), frozenset())


def test_training_uses_the_labels_and_the_card_says_so(tmp_path: Path) -> None:
    from policylens.nlp.train_facets import model_card_markdown, train_facets

    corpus = _corpus(tmp_path / "corpus")
    _without_applications(corpus, {"101", "107"})  # both unvalidated finance documents (i % 3 == 1)
    path = _labels(tmp_path / "applications.jsonl", _label(101, "Finance and investment"), _label(107))
    without = train_facets(corpus, families=("sector",), application_labels=False, workers=1)
    used = train_facets(corpus, families=("sector",), application_labels=path, workers=1)
    assert used.reports["sector"].labels["finance"]["support"] == \
        without.reports["sector"].labels["finance"]["support"] + 1  # 101 counts again, 107 stays negative
    hand = used.card["training_data"]["application_labels"]
    assert (hand["used"], hand["used_empty"], hand["applications"]) == (2, 1, {FINANCE: 1})
    assert without.card["training_data"]["application_labels"] == {"file": None, "used": 0}
    assert used.reports["sector"].subsets["hand_applications"]["n"] == 2
    assert "2 unvalidated training documents with human tags but no Applications tag" in \
        model_card_markdown(used)


# the second reading of the sixth round (docs/facets.md)
REVIEW = default_application_labels().with_name("applications_review.jsonl")


@pytest.mark.parametrize("path", [default_application_labels(), REVIEW], ids=["first", "review"])
def test_the_repository_labels_are_well_formed(path: Path) -> None:
    labels = read_application_labels(path, frozenset())
    assert len(labels) >= 100
    assert {label.confidence for label in labels.values()} <= {"high", "low"}


@pytest.mark.skipif(not Path("../shared/corpus/eval_documents.txt").is_file(),
                    reason="the shared corpus is not next to this checkout")
@pytest.mark.parametrize("path", [default_application_labels(), REVIEW], ids=["first", "review"])
def test_the_repository_labels_name_no_evaluation_only_document(path: Path) -> None:
    read_application_labels(path, evaluation_only(Path("../shared/corpus")))

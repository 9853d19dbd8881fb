"""The AGORA sector benchmark logic, on a tiny AGORA-shaped CSV written here."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.language import Language

from policylens.errors import DataError
from policylens.labels import SECTORS
from policylens.nlp.agora import (
    AGORA_TO_SECTOR,
    APPLICATION_PREFIX,
    PRF,
    SCORED_SECTORS,
    gold_sectors,
    load_agora,
    present_sectors,
    run_benchmark,
    split_of,
)

BENCH_SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "agora_sectors.py"

# Texts written for this test: (id, validated, AGORA application areas, full text or None).
DOCS = [
    (
        "101",
        "True",
        ["Medicine, life sciences and public health"],
        "Hospitals must validate triage software. Clinicians review every alert. The act starts in May.",
    ),
    (
        "102",
        "True",
        ["Government: military and public safety", "Security"],
        # Only one sentence names a defence actor: below the two-sentence rule.
        "The Secretary of Defense shall report yearly. Reports are due in March.",
    ),
    (
        "103",
        "True",
        ["Finance and investment", "Manufacturing and process automation"],
        "Lenders using credit scoring must explain denials. Mortgage applicants may ask for a review. "
        "Farmers use precision agriculture. Crop yields are forecast with models.",
    ),
    ("104", "False", ["Education"], "Teachers and schools use tutoring tools. Classroom use is common."),
    ("105", "True", ["Transportation"], None),  # no full text on disk
]


def _write_agora(root: Path) -> tuple[Path, Path]:
    fulltext = root / "fulltext"
    fulltext.mkdir(parents=True)
    columns = ["AGORA ID", "Official name", "Validated?"] + [APPLICATION_PREFIX + a for a in AGORA_TO_SECTOR]
    csv_path = root / "documents.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for agora_id, validated, areas, text in DOCS:
            row = {"AGORA ID": agora_id, "Official name": f"Doc {agora_id}", "Validated?": validated}
            row.update({APPLICATION_PREFIX + a: str(a in areas) for a in AGORA_TO_SECTOR})
            writer.writerow(row)
            if text is not None:
                (fulltext / f"{agora_id}.txt").write_text(text, encoding="utf-8")
    return csv_path, fulltext


@pytest.fixture(scope="module")
def agora_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _write_agora(tmp_path_factory.mktemp("agora"))


@pytest.fixture(scope="module")
def nlp() -> Language:
    pipeline = spacy.blank("en")
    pipeline.add_pipe("sentencizer")
    pipeline.add_pipe("policylens_facets")
    return pipeline


def test_mapping_targets_are_codebook_sectors_and_employment_is_unscored() -> None:
    assert {s for s in AGORA_TO_SECTOR.values() if s is not None} <= set(SECTORS)
    assert "employment" not in SCORED_SECTORS
    assert AGORA_TO_SECTOR["Security"] == AGORA_TO_SECTOR["Government: military and public safety"]
    assert AGORA_TO_SECTOR["Manufacturing and process automation"] is None


def test_gold_sectors_merges_areas_and_drops_unscored_ones() -> None:
    row = {
        APPLICATION_PREFIX + "Government: benefits and welfare": "True",
        APPLICATION_PREFIX + "Government: other applications/unspecified": "true",
        APPLICATION_PREFIX + "Business services and analytics": "True",
        APPLICATION_PREFIX + "Education": "False",
    }
    assert gold_sectors(row) == frozenset({"public_sector"})


def test_load_agora_keeps_validated_with_text_and_lists_missing(agora_files: tuple[Path, Path]) -> None:
    docs, missing = load_agora(*agora_files)
    assert [d.agora_id for d in docs] == ["101", "102", "103"]
    assert missing == ["105"]
    assert docs[1].sectors == frozenset({"defense_security"})
    assert docs[2].sectors == frozenset({"finance"})


def test_load_agora_can_select_the_unvalidated_documents(
    agora_files: tuple[Path, Path], tmp_path: Path
) -> None:
    docs, missing = load_agora(*agora_files, which="unvalidated")
    assert [d.agora_id for d in docs] == ["104"] and missing == []
    assert docs[0].sectors == frozenset({"education"})
    # with an "Annotated?" column, documents never annotated are left out of either selection
    columns = ["AGORA ID", "Validated?", "Annotated?"] + [APPLICATION_PREFIX + a for a in AGORA_TO_SECTOR]
    path = tmp_path / "documents.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="False")
        writer.writeheader()
        writer.writerow({"AGORA ID": "1", "Validated?": "False", "Annotated?": "True"})
        writer.writerow({"AGORA ID": "2", "Validated?": "False", "Annotated?": "False"})
        writer.writerow({"AGORA ID": "3", "Validated?": "True", "Annotated?": "True"})
    for agora_id in "123":
        (tmp_path / f"{agora_id}.txt").write_text("Schools use tutoring tools.", encoding="utf-8")
    assert [d.agora_id for d in load_agora(path, tmp_path, which="unvalidated")[0]] == ["1"]
    assert [d.agora_id for d in load_agora(path, tmp_path)[0]] == ["3"]


def test_bench_unvalidated_scores_all_and_tagged_documents(agora_files: tuple[Path, Path]) -> None:
    root = agora_files[0].parent
    command = [sys.executable, str(BENCH_SCRIPT), "--agora", str(root), "--unvalidated"]
    done = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    assert set(results) == {"all", "tagged"}
    assert results["all"]["n_docs"] == 1 and results["tagged"]["n_docs"] == 1
    assert results["all"]["per_sector"]["education"]["tp"] == 1
    refused = subprocess.run([*command, "--errors", "dev"], capture_output=True, text=True, timeout=300,
                             check=False)
    assert refused.returncode == 2 and "use --errors all" in refused.stderr


def test_load_agora_rejects_a_csv_without_application_columns(tmp_path: Path) -> None:
    path = tmp_path / "documents.csv"
    path.write_text("AGORA ID,Validated?\n1,True\n", encoding="utf-8-sig")
    with pytest.raises(DataError, match="missing columns"):
        load_agora(path, tmp_path)


def test_benchmark_scores_documents_with_the_two_sentence_rule(
    agora_files: tuple[Path, Path], nlp: Language
) -> None:
    result = run_benchmark(*agora_files, nlp=nlp, splits=("all",))["all"]
    by_id = {d.agora_id: d for d in result.documents}
    assert by_id["101"].predicted == frozenset({"healthcare"})
    assert by_id["102"].sentence_counts.get("defense_security") == 1
    assert by_id["102"].predicted == frozenset()  # one sentence is not enough
    # Agriculture is predicted but not in the gold tags: a false positive.
    assert by_id["103"].predicted == frozenset({"finance", "agriculture"})
    assert result.n_docs == 3
    assert result.missing_text == ("105",)
    assert result.per_sector["healthcare"] == PRF(tp=1)
    assert result.per_sector["defense_security"] == PRF(fn=1)
    assert result.per_sector["agriculture"] == PRF(fp=1)
    assert result.micro == PRF(tp=2, fp=1, fn=1)
    assert result.micro.f1 == pytest.approx(2 / 3)
    looser = run_benchmark(*agora_files, nlp=nlp, min_sentences=1, splits=("all",))["all"]
    assert looser.micro == PRF(tp=3, fp=1, fn=0)


def test_a_sector_named_in_passing_is_not_present_beside_the_main_one() -> None:
    counts = {"defense_security": 40, "healthcare": 3, "finance": 8, "employment": 1}
    # healthcare has 2+ sentences but under a fifth of the 40 defence sentences
    assert present_sectors(counts) == frozenset({"defense_security", "finance"})
    assert present_sectors(counts, min_share_of_top=0.0) == frozenset(
        {"defense_security", "healthcare", "finance"}
    )
    # the unscored employment sector still sets the maximum a present sector is compared with
    assert present_sectors({"employment": 50, "finance": 5}) == frozenset({"employment"})
    assert present_sectors({"healthcare": 2, "finance": 1}) == frozenset({"healthcare"})
    assert present_sectors({}) == frozenset()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"min_sentences": 0}, "min_sentences"), ({"min_share_of_top": 1.5}, "min_share_of_top")],
)
def test_present_sectors_rejects_a_bad_rule(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(DataError, match=message):
        present_sectors({"healthcare": 3}, **kwargs)  # type: ignore[arg-type]


def test_benchmark_applies_the_share_of_top_rule(tmp_path: Path, nlp: Language) -> None:
    fulltext = tmp_path / "fulltext"
    fulltext.mkdir()
    columns = ["AGORA ID", "Official name", "Validated?"] + [APPLICATION_PREFIX + a for a in AGORA_TO_SECTOR]
    csv_path = tmp_path / "documents.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        row = {"AGORA ID": "201", "Official name": "Doc 201", "Validated?": "True"}
        row.update(
            {
                APPLICATION_PREFIX + a: str(a == "Government: military and public safety")
                for a in AGORA_TO_SECTOR
            }
        )
        writer.writerow(row)
    text = " ".join(["The Secretary of Defense shall field the weapon system."] * 12)
    text += " Hospitals are listed once. Patients are listed twice."
    (fulltext / "201.txt").write_text(text, encoding="utf-8")
    strict = run_benchmark(csv_path, fulltext, nlp=nlp, splits=("all",))["all"]
    assert strict.documents[0].sentence_counts["healthcare"] == 2
    assert strict.documents[0].predicted == frozenset({"defense_security"})
    assert strict.micro == PRF(tp=1)
    loose = run_benchmark(csv_path, fulltext, nlp=nlp, min_share_of_top=0.0, splits=("all",))["all"]
    assert loose.micro == PRF(tp=1, fp=1)
    assert strict.to_dict()["min_share_of_top"] == 0.2


def test_splits_partition_the_documents(agora_files: tuple[Path, Path], nlp: Language) -> None:
    results = run_benchmark(*agora_files, nlp=nlp)
    assert results["dev"].n_docs + results["test"].n_docs == results["all"].n_docs
    assert split_of("101") == split_of(" 101 ")
    assert {split_of(str(i)) for i in range(20)} == {"dev", "test"}


def test_bench_script_prints_json(agora_files: tuple[Path, Path]) -> None:
    csv_path, _ = agora_files
    result = subprocess.run(
        [sys.executable, str(BENCH_SCRIPT), "--agora", str(csv_path.parent), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["results"]["all"]["micro"]["tp"] == 2
    assert "Business services and analytics" in payload["unscored_agora_areas"]

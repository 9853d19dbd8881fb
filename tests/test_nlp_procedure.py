"""The codebook's procedure (scope x role -> label), the scope override and the training guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policylens.errors import DataError, UsageError
from policylens.nlp import load_pipeline, tag_text
from policylens.nlp.labelled import (
    evaluation_sources,
    load_sentence_labels,
    refuse_evaluation,
    resolve_sets,
    written_documents_dir,
)
from policylens.nlp.procedure import compose, handoff, label_given
from policylens.nlp.scope import override
from policylens.nlp.standoff import sentence_sha256

NEUTRAL_CONTENT = {"centralized": 0.1, "sector_specific": 0.1, "neutral": 0.8}
SECTOR_CONTENT = {"centralized": 0.05, "sector_specific": 0.85, "neutral": 0.1}
CENTRAL_CONTENT = {"centralized": 0.8, "sector_specific": 0.05, "neutral": 0.15}


def _top(probs: dict[str, float]) -> str:
    return max(probs, key=probs.__getitem__)


@pytest.mark.parametrize("scope", ["horizontal", "targeted", "none"])
def test_other_is_neutral_in_every_scope(scope: str) -> None:
    assert label_given("other", scope, CENTRAL_CONTENT) == {
        "centralized": 0.0,
        "sector_specific": 0.0,
        "neutral": 1.0,
    }


@pytest.mark.parametrize("scope", ["horizontal", "targeted", "none"])
def test_architecture_follows_its_content_whatever_the_scope(scope: str) -> None:
    assert label_given("architecture", scope, SECTOR_CONTENT) == SECTOR_CONTENT
    assert label_given("architecture", scope, CENTRAL_CONTENT) == CENTRAL_CONTENT


def test_provision_of_a_horizontal_law_is_centralized_even_when_its_words_are_neutral() -> None:
    assert _top(label_given("provision", "horizontal", NEUTRAL_CONTENT)) == "centralized"


def test_provision_of_a_horizontal_law_that_hands_off_to_sector_rules_is_sector_specific() -> None:
    assert handoff(SECTOR_CONTENT) > 0.9
    assert _top(label_given("provision", "horizontal", SECTOR_CONTENT)) == "sector_specific"


def test_provision_of_a_targeted_instrument_is_sector_specific_whatever_its_words() -> None:
    for content in (NEUTRAL_CONTENT, CENTRAL_CONTENT, SECTOR_CONTENT):
        assert label_given("provision", "targeted", content) == {
            "centralized": 0.0,
            "sector_specific": 1.0,
            "neutral": 0.0,
        }


def test_provision_of_a_none_document_follows_its_content() -> None:
    assert label_given("provision", "none", CENTRAL_CONTENT) == CENTRAL_CONTENT
    assert _top(label_given("provision", "none", NEUTRAL_CONTENT)) == "neutral"


def test_compose_marginalises_over_uncertain_role_and_scope() -> None:
    role = {"architecture": 0.2, "provision": 0.5, "other": 0.3}
    scope = {"horizontal": 0.6, "targeted": 0.4, "none": 0.0}
    probs = compose(role, scope, NEUTRAL_CONTENT)
    q = handoff(NEUTRAL_CONTENT)
    expected_c = 0.2 * 0.1 + 0.5 * 0.6 * (1 - q)
    expected_s = 0.2 * 0.1 + 0.5 * (0.6 * q + 0.4)
    assert probs["centralized"] == pytest.approx(expected_c)
    assert probs["sector_specific"] == pytest.approx(expected_s)
    assert probs["neutral"] == pytest.approx(0.3 + 0.2 * 0.8)
    assert sum(probs.values()) == pytest.approx(1.0)


def test_compose_with_certain_parts_equals_the_procedure() -> None:
    for role in ("architecture", "provision", "other"):
        for scope in ("horizontal", "targeted", "none"):
            certain_role = {r: float(r == role) for r in ("architecture", "provision", "other")}
            certain_scope = {s: float(s == scope) for s in ("horizontal", "targeted", "none")}
            assert compose(certain_role, certain_scope, CENTRAL_CONTENT) == pytest.approx(
                label_given(role, scope, CENTRAL_CONTENT)
            )


def test_an_unknown_scope_override_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="horizontal, targeted, none"):
        override("sectoral")


def test_scope_override_changes_the_labels_of_provisions_and_nothing_else() -> None:
    text = (
        "Scope of this Act\n\n"
        "Every provider of an artificial intelligence system shall keep a log of its automated decisions "
        "and shall give it to the regulator within thirty days of a request. "
        "The Commission publishes an annual report on the state of research. "
        "An AI Office is established to supervise the application of this Act."
    )
    nlp = load_pipeline()
    horizontal = tag_text(text, nlp=nlp, scope="horizontal")
    targeted = tag_text(text, nlp=nlp, scope="targeted")
    assert horizontal.scope.overridden and horizontal.scope.label == "horizontal"
    assert targeted.scope.overridden and targeted.scope.label == "targeted"
    changed = 0
    for h, t in zip(horizontal.sentences, targeted.sentences, strict=True):
        # role and content do not depend on the scope: only the composition does
        assert h.role_probs == t.role_probs and h.content == t.content
        moved = abs(h.probs["centralized"] - t.probs["centralized"])
        # a sentence moves exactly as much as its provision probability allows
        assert moved == pytest.approx(
            h.role_probs["provision"] * (1 - handoff(h.content or h.probs)), abs=1e-6
        )
        if h.label != t.label:
            changed += 1
            assert h.role == "provision"
            assert (h.label, t.label) == ("centralized", "sector_specific")
    assert changed >= 1


def test_tagged_output_reports_role_and_scope() -> None:
    tagged = tag_text(
        "Providers shall register their systems with the national AI authority.", nlp=load_pipeline()
    )
    data = tagged.to_dict()
    assert set(data["scope"]) == {"label", "probs", "overridden", "evidence"}
    assert data["scope"]["overridden"] is False
    assert sum(data["scope"]["probs"].values()) == pytest.approx(1.0, abs=1e-3)
    sentence = data["sentences"][0]
    assert sentence["role"] in ("architecture", "provision", "other")
    assert sum(sentence["role_probs"].values()) == pytest.approx(1.0, abs=1e-3)


def test_training_refuses_records_of_evaluation_only_documents(tmp_path: Path) -> None:
    docs = tmp_path / "corpus"
    (docs / "laws").mkdir(parents=True)
    (docs / "laws" / "free.txt").write_text("Providers shall label generated content.\n")
    (docs / "laws" / "held.txt").write_text("Deployers must assess the impact.\n")
    (docs / "eval_documents.txt").write_text("# evaluation only\nlaws/held.txt\n")
    labels = tmp_path / "sentences.jsonl"
    rows = [
        {
            "id": "a",
            "source": "laws/free.txt",
            "sha256": sentence_sha256("Providers shall label generated content."),
            "role": "provision",
            "label": "centralized",
        },
        {
            "id": "b",
            "source": "laws/held.txt",
            "sha256": sentence_sha256("Deployers must assess the impact."),
            "role": "provision",
            "label": "centralized",
        },
    ]
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    evaluation = evaluation_sources(docs)
    assert evaluation == {"laws/held.txt"}
    records = load_sentence_labels(labels)
    with pytest.raises(DataError, match="evaluation-only"):
        refuse_evaluation((r["source"] for r in records), evaluation, labels)
    refuse_evaluation([records[0]["source"]], evaluation, labels)  # a free document passes


def test_committed_training_labels_point_only_at_free_documents() -> None:
    root = Path(__file__).resolve().parents[1] / "corpora" / "annotations" / "agora"
    shared = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "eval_documents.txt"
    records = load_sentence_labels(root / "sentences.jsonl")
    assert len(records) >= 3000 and len({r["source"] for r in records}) >= 200
    for line in (root / "sentences.jsonl").read_text(encoding="utf-8").splitlines():
        assert "text" not in json.loads(line)  # stand-off: no copied text
    if shared.is_file():
        evaluation = {line.strip() for line in shared.read_text().splitlines() if line.strip()}
        refuse_evaluation((r["source"] for r in records), evaluation, root / "sentences.jsonl")


def _standoff(folder: Path, source: str, text: str, scope: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    row = {"id": f"id-{source}", "source": source, "sha256": sentence_sha256(text), "role": "provision",
           "label": "centralized"}
    (folder / "sentences.jsonl").write_text(json.dumps(row) + "\n")
    (folder / "scopes.jsonl").write_text(json.dumps({"source": source, "scope": scope}) + "\n")


def test_written_documents_are_read_from_their_own_folder_beside_the_real_ones(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "laws").mkdir(parents=True)
    (corpus / "laws" / "free.txt").write_text("Providers shall label generated content.\n")
    (corpus / "eval_documents.txt").write_text("laws/held.txt\n")
    real = tmp_path / "agora"
    _standoff(real, "laws/free.txt", "Providers shall label generated content.", "horizontal")
    written = tmp_path / "documents"
    (written / "docs").mkdir(parents=True)
    (written / "docs" / "circular.md").write_text("# Circular\n\nBanks must test their credit models.\n")
    _standoff(written, "docs/circular.md", "Banks must test their credit models.", "targeted")
    nlp = load_pipeline()
    data, scopes = resolve_sets([real, written], corpus, nlp, evaluation_sources(corpus))
    assert scopes == {"laws/free.txt": "horizontal", "docs/circular.md": "targeted"}
    assert {(e.source, e.scope) for e in data.examples} == {("laws/free.txt", "horizontal"),
                                                            ("docs/circular.md", "targeted")}
    assert not data.missing and not data.unmatched
    # the same source named by two folders is refused rather than silently merged
    with pytest.raises(DataError, match="two stand-off folders"):
        resolve_sets([real, real], corpus, nlp, evaluation_sources(corpus))
    # and a written folder's records are refused too when they point at an evaluation-only path
    _standoff(written, "laws/held.txt", "Deployers must assess the impact.", "none")
    with pytest.raises(DataError, match="evaluation-only"):
        resolve_sets([written], corpus, nlp, evaluation_sources(corpus))


def test_committed_written_document_labels_all_resolve_in_their_documents(tmp_path: Path) -> None:
    folder = written_documents_dir()
    for line in (folder / "sentences.jsonl").read_text(encoding="utf-8").splitlines():
        assert "text" not in json.loads(line)  # stand-off, like the real ones
    data, scopes = resolve_sets([folder], tmp_path, load_pipeline(), set())
    assert len(scopes) == len(list((folder / "docs").glob("*.md"))) >= 20
    assert not data.missing and not data.unmatched  # a segmentation change would show here
    assert len(data.examples) >= 2000
    assert {e.role for e in data.examples} == {"architecture", "provision", "other"}

"""Cue matching with negation and contrast scope, and pattern serialization."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import spacy
from spacy.language import Language

from policylens.errors import ModelError
from policylens.nlp.cues import CUE_SPANS, read_pattern_files, sentence_cues


@pytest.fixture(scope="module")
def nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("policylens_sentences")
    nlp.add_pipe("policylens_cues")
    return nlp


def cues(nlp: Language, text: str) -> list[tuple[str, str, bool]]:
    doc = nlp(text)
    return [(c.text.lower(), c.approach, c.negated) for sent in doc.sents for c in sentence_cues(sent)]


def test_affirmed_cues_of_both_approaches(nlp: Language) -> None:
    found = cues(nlp, "The law sets harmonised rules for all AI systems, while existing regulators keep "
                      "their sector-specific powers.")
    assert ("all ai systems", "centralized", False) in found
    assert ("existing regulators", "sector_specific", False) in found
    assert ("sector-specific", "sector_specific", False) in found


def test_negation_scope_negates_the_design_that_is_denied(nlp: Language) -> None:
    found = cues(nlp, "The bill does not create a new AI regulator; existing regulators will act instead.")
    assert ("new ai regulator", "centralized", True) in found
    assert ("existing regulators", "sector_specific", False) in found


def test_no_new_regulator(nlp: Language) -> None:
    assert ("new regulator", "centralized", True) in cues(nlp, "There will be no new regulator for AI.")


def test_rather_than_negates_only_the_rejected_side(nlp: Language) -> None:
    found = cues(nlp, "Rather than a central AI authority, sector regulators will lead.")
    assert ("central ai authority", "centralized", True) in found
    assert ("sector regulators", "sector_specific", False) in found


def test_x_rather_than_y(nlp: Language) -> None:
    found = cues(nlp, "Ministers prefer sector-specific guidance rather than a horizontal AI law.")
    assert ("sector-specific", "sector_specific", False) in found
    assert ("horizontal ai law", "centralized", True) in found


def test_not_but_contrast(nlp: Language) -> None:
    found = cues(nlp, "The plan relies not on a single regulator but on existing regulators.")
    assert ("single regulator", "centralized", True) in found
    assert ("existing regulators", "sector_specific", False) in found


def test_pseudo_negations_negate_nothing(nlp: Language) -> None:
    found = cues(nlp, "No later than 2027, providers of high-risk AI systems shall register in the "
                      "EU database.")
    assert found and not any(negated for _, _, negated in found)
    found = cues(nlp, "Not only existing regulators but also the new AI office will act.")
    assert ("existing regulators", "sector_specific", False) in found


def test_scope_stops_at_a_clause_break(nlp: Language) -> None:
    found = cues(nlp, "This is not a loophole, and the treaty binds all parties.")
    assert ("treaty", "centralized", False) in found


def test_cue_offsets_are_relative_to_the_sentence(nlp: Language) -> None:
    doc = nlp("First sentence here. The AI Office will supervise.")
    second = list(doc.sents)[1]
    (cue,) = sentence_cues(second)
    assert second.text[cue.start:cue.end] == "AI Office"


def test_patterns_round_trip_through_to_disk(nlp: Language, tmp_path: Path) -> None:
    nlp.to_disk(tmp_path / "pipe")
    assert sorted(p.name for p in (tmp_path / "pipe" / "policylens_cues").glob("cues_*.jsonl")) == [
        "cues_centralized.jsonl", "cues_scope.jsonl", "cues_sector_specific.jsonl"]
    loaded = spacy.load(tmp_path / "pipe")
    text = "Rather than a central AI authority, sector regulators will lead."
    doc_loaded, doc_original = loaded(text), nlp(text)
    assert [(s.text, s.label_, s._.negated) for s in doc_loaded.spans[CUE_SPANS]] == [
        (s.text, s.label_, s._.negated) for s in doc_original.spans[CUE_SPANS]]
    original = nlp.get_pipe("policylens_cues").patterns
    assert loaded.get_pipe("policylens_cues").patterns == original


def test_cue_files_are_replaced_whole_and_stale_ones_go_only_after(nlp: Language, tmp_path: Path) -> None:
    # regression: to_disk (which 'policylens train' uses for the model's cues) truncated each file
    # and wrote it row by row, so a failure part-way left a half-written pattern file
    tagger = copy.copy(nlp.get_pipe("policylens_cues"))  # to_disk needs its patterns, not new matchers
    tagger.pattern_files = dict(tagger.pattern_files)
    folder = tmp_path / "cues"
    tagger.to_disk(folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    (folder / "cues_retired.jsonl").write_text('{"id": "old", "label": "NEG", "pattern": "old"}\n')

    good = tagger.pattern_files["cues_centralized.jsonl"]
    unwritable = {"id": "x", "label": "centralized", "pattern": "x", "note": {"a set"}}
    tagger.pattern_files["cues_centralized.jsonl"] = [*good, unwritable]
    with pytest.raises(TypeError):
        tagger.to_disk(folder)
    assert (folder / "cues_centralized.jsonl").read_bytes() == before["cues_centralized.jsonl"]
    assert (folder / "cues_retired.jsonl").exists()  # nothing is removed when writing failed
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]

    tagger.pattern_files["cues_centralized.jsonl"] = good
    tagger.to_disk(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(before)  # the retired file is gone
    assert read_pattern_files(folder) == tagger.pattern_files


def test_custom_pattern_dir_and_phrase_patterns(tmp_path: Path) -> None:
    rows = [{"id": "fund", "label": "sector_specific", "pattern": "farm-level guidance"},
            {"id": "neg", "label": "NEG", "pattern": [{"LOWER": "not"}]}]
    (tmp_path / "cues_custom.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    nlp = spacy.blank("en")
    nlp.add_pipe("policylens_cues", config={"patterns_dir": str(tmp_path)})
    doc = nlp("They issued farm-level guidance, not farm-level guidance.")
    assert [s._.negated for s in doc.spans[CUE_SPANS]] == [False, True]


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not JSON"),
    ('{"id": "x", "label": "sideways", "pattern": "x"}', "unknown label"),
    ('{"id": "x", "label": "NEG"}', "needs"),
    ('{"id": "x", "label": "NEG", "pattern": [{"LOWER": {"FUZZY": 3}}]}', "cue pattern 'x'"),
])
def test_bad_pattern_files_are_a_model_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "cues_bad.jsonl").write_text(content + "\n")
    nlp = spacy.blank("en")
    with pytest.raises(ModelError, match=message):
        nlp.add_pipe("policylens_cues", config={"patterns_dir": str(tmp_path)})


def test_missing_pattern_dir_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no cue pattern files"):
        read_pattern_files(tmp_path)


def test_regulator_self_supervision_and_member_state_discretion(nlp: Language) -> None:
    assert ("firms we supervise", "sector_specific", False) in cues(
        nlp, "The guidance explains what we expect of the firms we supervise when they use AI.")
    assert ("our existing regulatory framework", "sector_specific", False) in cues(
        nlp, "We will rely on our existing regulatory framework for insurers.")
    assert ("member states may adopt", "sector_specific", False) in cues(
        nlp, "Member states may adopt stricter measures for public-sector uses.")
    # a generic "we will review" is not supervision
    assert cues(nlp, "We will review the consultation responses in the spring.") == []


def test_all_operator_obligations_and_nothing_negates(nlp: Language) -> None:
    assert ("every provider shall", "centralized", False) in cues(
        nlp, "Every provider shall label synthetic images, whatever the platform.")
    assert ("preempt", "centralized", True) in cues(
        nlp, "Nothing in this part shall be construed to preempt county rules on AI.")


def test_supervisory_constructs_and_reports_to_a_central_office(nlp: Language) -> None:
    assert ("authority expects insurers", "sector_specific", False) in cues(
        nlp, "The authority expects insurers to explain automated refusals.")
    assert ("regulators need more funding", "sector_specific", False) in cues(
        nlp, "Regulators need more funding to examine AI in their markets.")
    assert ("banking ombudsman", "sector_specific", False) in cues(
        nlp, "Customers may take a dispute to the banking ombudsman.")
    assert ("binding rules too early", "sector_specific", False) in cues(
        nlp, "Binding rules too early would date quickly.")
    assert ("report to the ai office", "centralized", False) in cues(
        nlp, "Providers report to the AI Office within two weeks.")
    assert ("designated under this act", "centralized", False) in cues(
        nlp, "The authorities designated under this Act may enter premises.")
    # expecting a date or a number of replies is not a supervisory expectation
    assert cues(nlp, "We expect to publish the results in June.") == []

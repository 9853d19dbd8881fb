"""Token matchers skip docs without an anchor word: the cues and facets found stay exactly the same."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import spacy
from spacy.language import Language
from spacy.matcher import Matcher

from policylens.nlp import anchors
from policylens.nlp.anchors import AnchorGate, anchor
from policylens.nlp.cues import CUE_SPANS, MARKER_SPANS, expand_pattern, read_pattern_files
from policylens.nlp.facets import default_patterns
from policylens.nlp.model import CUES_DIR, default_model_dir

# Sentences written for this test: some hold what the token patterns look for, most do not.
MATCHING = [
    "The regulator also expects firms to explain their models.",
    "We expect regulated insurers to test for bias.",
    "The Committee on Energy and Commerce held a hearing on AI in hospitals.",
    "The Artificial Intelligence Act sets rules for medical devices and banks.",
    "Both the private sector and the public sector use AI in lending.",
    "The Consumer Credit Code and the Fair Lending Rule apply to credit scoring.",
]
OTHER = [
    "Sector regulators will apply the principles in their own remits.",
    "A new central AI authority will license frontier models.",
    "Hospitals use AI to read scans, and schools use it to grade essays.",
    "The agency shall not create a new regulator for financial services.",
]


def text(seed: int = 14, n: int = 120) -> str:
    rng = random.Random(seed)
    return "\n\n".join(rng.choice(MATCHING if rng.random() < 0.3 else OTHER) for _ in range(n))


def matcher_cue_rows() -> list[dict[str, Any]]:
    """The shipped cue patterns that only spaCy's ``Matcher`` can match (too many phrases to expand)."""
    files = read_pattern_files(default_model_dir() / CUES_DIR)
    return [row for rows in files.values() for row in rows
            if not isinstance(row["pattern"], str) and expand_pattern(row["pattern"]) is None]


def token_patterns() -> list[list[dict[str, Any]]]:
    cues = [row["pattern"] for row in matcher_cue_rows()]
    facets = [[dict(t) for t in p.pattern] for p in default_patterns() if not isinstance(p.pattern, str)]
    assert cues and facets
    return [*cues, *facets]


def test_a_closed_gate_means_the_matcher_finds_nothing() -> None:
    nlp = spacy.blank("en")
    closed = opened = 0
    for i, pattern in enumerate(token_patterns()):
        matcher = Matcher(nlp.vocab)
        matcher.add(f"p{i}", [pattern])
        gate = AnchorGate(nlp.vocab)
        gate.add(pattern)
        for sentence in [*MATCHING, *OTHER]:
            doc = nlp(sentence)
            if gate.may_match(doc):
                opened += 1
            else:
                closed += 1
                assert matcher(doc) == [], (pattern, sentence)
    assert closed > opened > 0  # the gates do skip most docs, and do let the matching ones through


def spans(nlp: Language, source: str) -> list[list[tuple[str, str, int, int]]]:
    out = []
    for doc in nlp.pipe(source.split("\n\n")):
        out.append([(s.label_, s.id_, s.start, s.end) for key in ("facets", CUE_SPANS, MARKER_SPANS)
                    for s in doc.spans.get(key, [])])
    return out


def test_cues_and_facets_are_the_same_with_the_gates_open(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    # the Matcher's cue patterns and one phrase cue (compiling every phrase cue takes seconds)
    rows = [*matcher_cue_rows(), {"id": "sector_regulators", "label": "sector_specific",
                                  "pattern": "sector regulators"}]
    (tmp_path / "cues_test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    def pipeline() -> Language:
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        nlp.add_pipe("policylens_facets")
        nlp.add_pipe("policylens_cues", config={"patterns_dir": str(tmp_path)})
        return nlp

    source = text()
    gated = spans(pipeline(), source)
    monkeypatch.setattr(anchors.AnchorGate, "may_match", lambda self, doc: True)
    assert spans(pipeline(), source) == gated
    found = {(label, pattern_id) for doc in gated for label, pattern_id, _, _ in doc}
    assert ("sector_specific", "supervisory_expectation") in found  # a cue only the Matcher finds


def test_a_pattern_anchor_is_a_token_that_must_occur() -> None:
    optional_then_required = [{"LOWER": "a", "OP": "?"}, {"LOWER": {"IN": ["b", "c"]}}]
    assert anchor(optional_then_required) == ("LOWER", frozenset({"b", "c"}))
    assert anchor([{"TEXT": {"REGEX": "^A"}}, {"ORTH": "Act", "OP": "*"}]) is None
    assert anchor([{"LOWER": {"NOT_IN": ["x"]}}]) is None

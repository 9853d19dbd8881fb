"""policylens.rank.diff on two constructed versions of one bill."""

from __future__ import annotations

import json

import pytest

from policylens.rank import diff
from test_rank_support import document

INTRODUCED = [
    ("This Act may be cited as the Model Systems Act.", 0.0, 0.0),
    ("Each sector regulator shall supervise AI in its own field.", 0.02, 0.95),
    ("The Minister may make regulations under this Act.", 0.01, 0.01),
    ("A developer shall keep records for three years.", 0.05, 0.02),
    ("Sandboxes will be run by the financial regulator.", 0.0, 0.9),
]
PASSED = [
    ("This Act may be cited as the Model Systems Act.", 0.0, 0.0),
    ("A national AI office shall supervise AI in every field.", 0.93, 0.02),
    ("The Minister may make regulations under this Act.", 0.01, 0.01),
    ("A developer shall keep records for three years!", 0.9, 0.02),  # same text, new label
    ("Every high-risk system shall be registered with the national AI office.", 0.96, 0.0),
]


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    old = document(INTRODUCED, source="introduced.pdf", pages=[1, 1, 2, 2, 3])
    new = document(PASSED, source="passed.pdf", pages=[1, 2, 2, 3, 4])
    return diff(old, new)


def test_diff_classifies_added_removed_and_relabelled(result) -> None:  # type: ignore[no-untyped-def]
    assert [s.text for s in result.added] == [
        "Every high-risk system shall be registered with the national AI office."]
    assert [s.text for s in result.removed] == ["Sandboxes will be run by the financial regulator."]
    # a rewritten sentence (similar text) and a re-tagged identical one are both "relabelled"
    assert [(c.old.label, c.new.label) for c in result.relabelled] == [
        ("sector_specific", "centralized"), ("neutral", "centralized")]
    rewritten, retagged = result.relabelled
    assert 0.6 <= rewritten.similarity < 1.0
    assert retagged.similarity == 1.0  # punctuation is ignored when aligning
    assert (retagged.old.page, retagged.new.page) == (2, 3)  # page numbers on both sides
    assert result.unchanged == 2


def test_diff_reports_how_the_index_moved(result) -> None:  # type: ignore[no-untyped-def]
    assert result.old_index < -0.5
    assert result.new_index > 0.5
    assert result.delta == pytest.approx(result.new_index - result.old_index)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["old_doc"] == "introduced.pdf" and data["new_doc"] == "passed.pdf"
    assert {"added", "removed", "relabelled", "reworded", "delta"} <= set(data)
    assert data["added"][0]["page"] == 4


def test_similar_sentences_pair_as_relabelled_or_reworded() -> None:
    old = document([("The regulator for banks shall oversee credit models.", 0.05, 0.9),
                    ("Reports are due every year on 1 May.", 0.0, 0.0)])
    new = document([("The regulator for banks shall oversee all credit models.", 0.05, 0.9),
                    ("Reports are due every year on 1 June.", 0.0, 0.0)])
    result = diff(old, new)
    assert len(result.reworded) == 2 and not result.added and not result.removed
    flipped = document([("The national office shall oversee all credit models.", 0.9, 0.05)])
    result = diff(document([("The regulator for banks shall oversee credit models.", 0.05, 0.9)]), flipped)
    assert len(result.relabelled) + len(result.added) >= 1
    assert result.delta > 0.8


def test_identical_versions_have_no_changes() -> None:
    doc = document(INTRODUCED)
    result = diff(doc, doc)
    assert (result.added, result.removed, result.relabelled, result.reworded) == ((), (), (), ())
    assert result.unchanged == len(INTRODUCED) and result.delta == 0.0

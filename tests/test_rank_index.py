"""The centralization index, its bootstrap interval, counts, facets and evidence."""

from __future__ import annotations

import numpy as np
import pytest

from policylens.errors import UsageError
from policylens.nlp.types import Facets, TaggedDocument
from policylens.rank import rank, score
from policylens.rank.index import IndexSettings, bootstrap_interval, centralization_index
from test_rank_support import document, mixed


def swapped(doc: TaggedDocument) -> TaggedDocument:
    """The mirror image: every sentence's two approach probabilities exchanged."""
    from dataclasses import replace

    labels = {"centralized": "sector_specific", "sector_specific": "centralized", "neutral": "neutral"}
    sentences = tuple(replace(s, label=labels[s.label],
                              probs={"centralized": s.probs["sector_specific"],
                                     "sector_specific": s.probs["centralized"],
                                     "neutral": s.probs["neutral"]})
                      for s in doc.sentences)
    return replace(doc, sentences=sentences)


def test_index_formula_matches_the_documented_definition() -> None:
    c = np.array([0.9, 0.1, 0.0, 0.5])
    s = np.array([0.05, 0.8, 0.0, 0.3])
    expected = (0.9 - 0.05 + 0.1 - 0.8 + 0.5 - 0.3) / (0.95 + 0.9 + 0.8 + 1.0)
    assert centralization_index(c, s, prior=1.0) == pytest.approx(expected)


@pytest.mark.parametrize("n_c,n_s,n_n", [(30, 0, 10), (0, 30, 10), (12, 12, 30), (3, 20, 60)])
def test_index_and_interval_stay_inside_the_axis(n_c: int, n_s: int, n_n: int) -> None:
    result = score(mixed(n_c, n_s, n_n))
    assert -1.0 < result.index < 1.0
    assert -1.0 <= result.ci_low <= result.index <= result.ci_high <= 1.0


def test_fully_centralized_and_fully_sector_documents_sit_at_the_ends() -> None:
    central = score(mixed(40, 0, 40)).index
    sector = score(mixed(0, 40, 40)).index
    assert central > 0.8
    assert sector < -0.8


def test_swapping_the_approaches_negates_index_and_mirrors_interval() -> None:
    doc = mixed(15, 6, 30)
    a, b = score(doc), score(swapped(doc))
    assert b.index == pytest.approx(-a.index)
    assert b.ci_low == pytest.approx(-a.ci_high)
    assert b.ci_high == pytest.approx(-a.ci_low)
    assert a.counts["centralized"] == b.counts["sector_specific"] == 15


def test_neutral_sentences_carry_no_weight() -> None:
    lean = score(mixed(10, 5, 0)).index
    # neutral sentences with exactly zero approach probability change nothing
    rows = [(f"s{i}", 0.9, 0.05) for i in range(10)] + [(f"t{i}", 0.05, 0.9) for i in range(5)]
    padded = document(rows + [(f"n{i}", 0.0, 0.0) for i in range(200)])
    assert score(document(rows)).index == pytest.approx(score(padded).index)
    assert lean == pytest.approx(score(document(rows)).index)


def test_neutral_only_document_scores_zero_with_the_whole_axis_as_interval() -> None:
    doc = document([(f"Definition {i}.", 0.0, 0.0) for i in range(25)])
    result = score(doc)
    assert result.index == 0.0
    assert (result.ci_low, result.ci_high) == (-1.0, 1.0)
    assert result.extra["silent"] is True
    assert result.evidence == ()
    assert result.counts == {"centralized": 0, "sector_specific": 0, "neutral": 25}


def test_empty_document_is_handled() -> None:
    result = score(document([]))
    assert (result.index, result.ci_low, result.ci_high, result.n_sentences) == (0.0, -1.0, 1.0, 0)


def test_bootstrap_is_seeded_and_narrows_with_more_sentences() -> None:
    small, large = mixed(6, 3, 5), mixed(60, 30, 50)
    assert score(small).ci_low == score(small).ci_low  # same seed, same interval
    width = lambda d: score(d).ci_high - score(d).ci_low  # noqa: E731
    assert width(large) < width(small)
    c = np.array([0.9] * 6 + [0.05] * 3)
    s = np.array([0.05] * 6 + [0.9] * 3)
    one = bootstrap_interval(c, s, IndexSettings(seed=1))
    two = bootstrap_interval(c, s, IndexSettings(seed=2))
    assert one != two  # the seed matters, so it is really resampling


def test_evidence_picks_the_strongest_sentences_each_way_with_pages() -> None:
    rows = ([(f"central {i}", 0.5 + i * 0.05, 0.0) for i in range(8)]
            + [(f"sector {i}", 0.0, 0.5 + i * 0.05) for i in range(3)]
            + [("neutral", 0.0, 0.0)])
    pages = list(range(1, len(rows) + 1))
    result = score(document(rows, pages=pages))
    central = [e for e in result.evidence if e.weight > 0]
    sector = [e for e in result.evidence if e.weight < 0]
    assert [e.text for e in central] == [f"central {i}" for i in (7, 6, 5, 4, 3)]
    assert [e.text for e in sector] == [f"sector {i}" for i in (2, 1, 0)]
    assert central[0].page == 8 and sector[0].page == 11
    assert sum(e.weight for e in result.evidence) == pytest.approx(
        sum(0.5 + i * 0.05 for i in (3, 4, 5, 6, 7)) / (sum(0.5 + i * 0.05 for i in range(8))
                                                       + sum(0.5 + i * 0.05 for i in range(3)) + 1)
        - sum(0.5 + i * 0.05 for i in range(3)) / (sum(0.5 + i * 0.05 for i in range(8))
                                                   + sum(0.5 + i * 0.05 for i in range(3)) + 1))


def test_evidence_shows_a_repeated_sentence_once() -> None:
    rows = [("The Authority registers every system.", 0.9, 0.0)] * 4 + [("Another rule.", 0.6, 0.0)]
    texts = [e.text for e in score(document(rows)).evidence]
    assert texts == ["The Authority registers every system.", "Another rule."]


def test_facet_profile_counts_sentences_per_facet() -> None:
    from dataclasses import replace

    doc = mixed(2, 2, 2)
    sentences = list(doc.sentences)
    sentences[0] = replace(sentences[0], facets=Facets(sector=("finance", "healthcare"), level=("national",)))
    sentences[1] = replace(sentences[1], facets=Facets(sector=("finance",), instrument=("sandbox_testbed",)))
    result = score(replace(doc, sentences=tuple(sentences)))
    assert result.facets["sector"] == {"healthcare": 1, "finance": 2}
    assert list(result.facets["sector"]) == ["healthcare", "finance"]  # codebook order
    assert result.facets["level"] == {"national": 1}
    assert result.facets["instrument"] == {"sandbox_testbed": 1}
    assert result.facets["style"] == {}


def test_rank_orders_most_centralized_first_and_numbers_from_one() -> None:
    scores = [score(mixed(n_c, n_s, 10, source=name))
              for name, n_c, n_s in [("b", 5, 5), ("a", 20, 1), ("c", 1, 20), ("d", 10, 4)]]
    ranked = rank(scores)
    assert [s.doc for s in ranked] == ["a", "d", "b", "c"]
    assert [s.rank for s in ranked] == [1, 2, 3, 4]


def test_settings_resolve_and_reject_bad_values() -> None:
    assert IndexSettings.resolve(None) == IndexSettings()
    assert IndexSettings.resolve({"resamples": 10}).resamples == 10
    with pytest.raises(UsageError):
        IndexSettings.resolve({"bogus": 1})
    with pytest.raises(UsageError):
        IndexSettings(confidence=1.5)


def test_unknown_method_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown method"):
        score(mixed(1, 1, 1), method="astrology")


def test_sentences_labelled_neutral_carry_no_weight_even_with_a_slight_lean() -> None:
    # Regression: 130 neutral sentences leaning 0.01 towards sector-specific (a text in
    # another language) used to add up to an index of -0.2 with a zero-width interval.
    leaning = [(f"Paragraph {i}.", 0.002, 0.012) for i in range(130)]
    silent = score(document(leaning))
    assert silent.index == 0.0 and (silent.ci_low, silent.ci_high) == (-1.0, 1.0)
    assert silent.extra["silent"] is True and silent.evidence == ()
    governed = [("One authority registers every system.", 0.9, 0.05)] * 3
    assert score(document(governed + leaning)).index == pytest.approx(score(document(governed)).index)

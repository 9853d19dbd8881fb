"""Sentence segmentation on legal text: abbreviations, enumerations, headings, long sentences."""

from __future__ import annotations

import pytest
import spacy
from spacy.language import Language

from policylens.nlp.segment import HEADING_FLAG, MAX_SENTENCE_TOKENS, LegalSentenceSegmenter


@pytest.fixture(scope="module")
def nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("policylens_sentences")
    return nlp


def sentences(nlp: Language, text: str) -> list[str]:
    return [s.text.strip() for s in nlp(text).sents]


def test_abbreviations_do_not_end_sentences(nlp: Language) -> None:
    text = ("Under Art. 5 and Sec. 12 of the U.S. Code, e.g. in No. 3 of the list, the duty applies. "
            "A second sentence follows.")
    assert sentences(nlp, text) == [
        "Under Art. 5 and Sec. 12 of the U.S. Code, e.g. in No. 3 of the list, the duty applies.",
        "A second sentence follows.",
    ]


def test_numbered_paragraphs_and_enumerations_stay_whole(nlp: Language) -> None:
    text = "1. The board shall meet twice a year. 2. The operator shall (a) keep logs; (b) report incidents."
    assert sentences(nlp, text) == [
        "1. The board shall meet twice a year.",
        "2. The operator shall (a) keep logs; (b) report incidents.",
    ]


def test_lowercase_after_full_stop_is_not_a_boundary(nlp: Language) -> None:
    assert len(sentences(nlp, "The rule covers approx. ten sectors and ends here.")) == 1


def test_question_and_exclamation_marks_end_sentences(nlp: Language) -> None:
    assert len(sentences(nlp, "Who regulates models? Nobody yet! That may change.")) == 3


def test_heading_line_without_full_stop_is_its_own_sentence(nlp: Language) -> None:
    assert sentences(nlp, "Article 7\nProviders shall keep records.") == [
        "Article 7", "Providers shall keep records."]


def test_heading_flag_makes_the_whole_doc_one_sentence(nlp: Language) -> None:
    doc = nlp.make_doc("Chapter 2. Obligations. Of providers")
    doc.user_data[HEADING_FLAG] = True
    assert len(list(nlp(doc).sents)) == 1


def test_over_long_sentences_are_cut_at_the_token_limit(nlp: Language) -> None:
    text = " ".join(["word"] * (MAX_SENTENCE_TOKENS * 3 + 7))
    lengths = [len(s) for s in nlp(text).sents]
    assert max(lengths) <= MAX_SENTENCE_TOKENS
    assert sum(lengths) == MAX_SENTENCE_TOKENS * 3 + 7


def test_long_sentences_prefer_cutting_after_a_semicolon() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("policylens_sentences", config={"max_tokens": 20})
    text = " ".join(["alpha"] * 15) + " ; " + " ".join(["beta"] * 15)
    first = next(iter(nlp(text).sents))
    assert first.text.strip().endswith(";")


def test_empty_doc_and_bad_setting() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("policylens_sentences")
    assert list(nlp("").sents) == []
    with pytest.raises(ValueError):
        LegalSentenceSegmenter(max_tokens=2)

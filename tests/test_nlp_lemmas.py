"""``policylens_lemmas`` gives exactly the lemmas of spaCy's lookup-mode lemmatizer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from spacy.language import Language

from policylens.errors import ModelError
from policylens.nlp.lemmas import lookup_table

SENTENCES = Path(__file__).resolve().parents[1] / "corpora" / "annotations" / "sentences"


def written_sentences() -> list[str]:
    """The project's own written training sentences (varied words, inflections, capitals)."""
    texts = [json.loads(line)["text"] for path in sorted(SENTENCES.glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(texts) > 300
    return texts


def spacy_lemmatizer() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def test_same_lemmas_as_spacys_lookup_lemmatizer() -> None:
    ours = spacy.blank("en")
    ours.add_pipe("policylens_lemmas")
    reference = spacy_lemmatizer()
    texts = written_sentences()
    for _ in range(2):  # the second pass reads the lemmas the component remembered
        got = [[t.lemma_ for t in doc] for doc in ours.pipe(texts)]
        want = [[t.lemma_ for t in doc] for doc in reference.pipe(texts)]
        assert got == want
    changed = sum(t.lemma_ != t.text for doc in ours.pipe(texts) for t in doc)
    assert changed > 1000  # the table was used, not just the words copied


def test_a_lemma_already_set_is_kept_and_other_vocabs_work() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("policylens_lemmas")
    component = nlp.get_pipe("policylens_lemmas")
    doc = nlp.make_doc("Agencies were issuing rules")
    doc[0].lemma_ = "agency-set-before"
    assert [t.lemma_ for t in component(doc)] == ["agency-set-before", "be", "issue", "rule"]
    other = spacy.blank("en").make_doc("Banks were lending")  # another Vocab, its own strings
    assert [t.lemma_ for t in component(other)] == ["Banks", "be", "lend"]  # the table is case-sensitive
    assert len(component(nlp.make_doc(""))) == 0


def test_a_language_without_a_lookup_table_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="spacy-lookups-data"):
        lookup_table("xx")

"""The tagging pipeline end to end: API, output shape, documents, bad input, fresh-process loading."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from spacy.language import Language

from policylens.extract.document import Block, Document
from policylens.labels import LABELS
from policylens.nlp import load_pipeline, tag, tag_text
from policylens.nlp.types import TaggedDocument, TaggedSentence


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_pipeline()


def test_pipeline_components_in_order(nlp: Language) -> None:
    names = nlp.pipe_names
    assert names[0] == "policylens_sentences"
    assert names.index("policylens_cues") < names.index("policylens_governance")
    # Regression: a facets component that failed to load was silently left out.
    assert names.index("policylens_facets") < names.index("policylens_cues")


def test_load_pipeline_is_cached(nlp: Language) -> None:
    assert load_pipeline() is nlp
    assert load_pipeline(None) is nlp


def test_tag_text_output_matches_the_contract(nlp: Language) -> None:
    tagged = tag_text("Rather than creating a new AI regulator, the government will ask existing "
                      "regulators such as the financial regulator to apply their own rules. "
                      "The meeting took place on a Tuesday.", nlp=nlp)
    assert isinstance(tagged, TaggedDocument)
    assert tagged.model_version
    assert [s.sentence_id for s in tagged.sentences] == [0, 1]
    first = tagged.sentences[0].to_dict()
    assert set(first) == {"doc", "sentence_id", "text", "label", "probs", "cues", "facets", "page", "section",
                          "role", "role_probs", "content"}
    assert set(first["role_probs"]) == {"architecture", "provision", "other"}
    assert first["doc"] == "<text>"
    assert set(first["probs"]) == set(LABELS)
    assert abs(sum(first["probs"].values()) - 1) < 1e-3
    assert first["label"] == max(first["probs"], key=first["probs"].get)
    assert {"text": "new AI regulator", "approach": "centralized", "negated": True} in first["cues"]
    assert set(first["facets"]) == {"sector", "level", "instrument", "style"}
    assert TaggedSentence.from_dict(first).to_dict() == first


def test_clear_cases_get_the_right_label(nlp: Language) -> None:
    tagged = tag_text(
        "The Act does not create a new AI agency; instead, existing sector regulators will issue "
        "guidance for their own sectors.\n\n"
        "One set of binding rules applies to all AI systems across all sectors, "
        "enforced by a single national AI authority.\n\n"
        "The report was published in three languages and runs to forty pages.", nlp=nlp)
    assert [s.label for s in tagged.sentences] == ["sector_specific", "centralized", "neutral"]


def test_tag_document_keeps_pages_and_sections_tags_table_rows_and_skips_footnotes(nlp: Language) -> None:
    document = Document(
        source="memo.pdf", sha256="ab" * 32, title="Memo", n_pages=2,
        blocks=(
            Block(page=1, kind="heading", text="Part 2. Oversight. Of AI",
                  section="Part 2. Oversight. Of AI"),
            Block(page=1, kind="paragraph", text="Sector regulators will oversee AI. They report yearly.",
                  section="Part 2. Oversight. Of AI"),
            Block(page=2, kind="table", text="col a | col b", section="Part 2. Oversight. Of AI"),
            Block(page=2, kind="list_item", text="(a) the register is kept by the AI Office.", section=None),
            Block(page=2, kind="footnote", text="1 See the annual report, p. 4.", section=None),
        ))
    tagged = tag(document, nlp=nlp)
    assert (tagged.source, tagged.title, tagged.n_pages) == ("memo.pdf", "Memo", 2)
    texts = [s.text for s in tagged.sentences]
    assert texts[0] == "Part 2. Oversight. Of AI"  # a heading block is one sentence
    assert "col a; col b" in texts and "col a | col b" not in texts  # a table row reads as one sentence
    assert not any("annual report" in t for t in texts)  # footnotes are not tagged
    assert [s.page for s in tagged.sentences] == [1, 1, 1, 2, 2]
    assert tagged.sentences[1].section == "Part 2. Oversight. Of AI"
    assert all(s.doc == "memo.pdf" for s in tagged.sentences)


def test_text_headings_become_sections(nlp: Language) -> None:
    tagged = tag_text("Chapter 3\nThe board meets twice a year. Minutes are public.", nlp=nlp)
    assert [s.text for s in tagged.sentences] == [
        "Chapter 3", "The board meets twice a year.", "Minutes are public."]
    assert tagged.sentences[2].section == "Chapter 3"


@pytest.mark.parametrize("text", ["", "   \n\n\t  ", "\x00\x00"])
def test_empty_text_gives_an_empty_result(nlp: Language, text: str) -> None:
    tagged = tag_text(text, nlp=nlp)
    assert tagged.sentences == ()


def test_binary_garbage_does_not_crash(nlp: Language) -> None:
    garbage = bytes(range(256)).decode("latin-1") * 40 + "\udcff"
    tagged = tag_text(garbage, nlp=nlp)
    assert all(s.label in LABELS for s in tagged.sentences)
    assert all(s.probs and abs(sum(s.probs.values()) - 1) < 1e-6 for s in tagged.sentences)


def test_non_english_text_is_tagged_without_governance_labels(nlp: Language) -> None:
    tagged = tag_text("Die Bundesregierung fördert die Forschung an Hochschulen. "
                      "El gobierno publicará un informe anual sobre el empleo.", nlp=nlp)
    assert len(tagged.sentences) == 2
    assert {s.label for s in tagged.sentences} == {"neutral"}


@pytest.mark.slow
def test_five_megabyte_single_sentence_is_split_into_bounded_sentences(nlp: Language) -> None:
    words = ["the", "agency", "shall", "publish", "notes", "on", "models", "and", "rules", "for",
             "providers", "of", "systems", "in", "every", "region", "with", "care"]
    text = " ".join(words[i % len(words)] for i in range(5_000_000 // 5))[:5_000_000]
    assert len(text) == 5_000_000 and "." not in text
    tagged = tag_text(text, nlp=nlp)
    assert len(tagged.sentences) > 1000
    assert max(len(s.text.split()) for s in tagged.sentences) <= 200
    assert sum(len(s.text.split()) for s in tagged.sentences) == len(text.split())


def test_governance_factory_works_in_a_fresh_process(tmp_path: Path) -> None:
    """spaCy finds the components through the package's entry points, with no policylens import."""
    code = (
        "import spacy\n"
        "nlp = spacy.blank('en')\n"
        "nlp.add_pipe('policylens_cues')\n"
        "nlp.add_pipe('policylens_governance')\n"
        "doc = nlp('Existing regulators will apply their own rules.')\n"
        "start, end, probs = doc._.governance[0]\n"
        "print(sorted(probs))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['centralized', 'neutral', 'sector_specific']"


def test_pipeline_round_trips_through_to_disk(nlp: Language, tmp_path: Path) -> None:
    import spacy

    nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe")
    text = "Existing regulators will apply their own rules to AI in healthcare."
    a, b = nlp(text)._.governance, loaded(text)._.governance
    assert [t[:2] for t in a] == [t[:2] for t in b]
    assert all(abs(a[0][2][k] - b[0][2][k]) < 1e-9 for k in LABELS)


def test_table_rows_from_a_real_pdf_are_tagged_one_sentence_per_row(tmp_path: Path) -> None:
    from pdf_factory import write_table_pdf
    from policylens.extract import extract

    rows = [["Domain", "Who acts"],
            ["Banking", "The banking supervisor applies its existing model-risk rules to AI."],
            ["Clinics", "The medicines regulator issues guidance for AI used in diagnosis."]]
    pdf = write_table_pdf(tmp_path / "t.pdf", ["Our approach relies on the regulators we already have."],
                          rows, ["Funding for research will rise next year."])
    document = extract(pdf)
    assert any(b.kind == "table" for b in document.blocks)
    texts = [s.text for s in tag(document).sentences]
    row = "Banking; The banking supervisor applies its existing model-risk rules to AI."
    assert row in texts
    assert not any(" | " in t for t in texts)
    assert texts.index(row) < texts.index("Funding for research will rise next year.")

"""The PDF path on real generated PDFs: cleaned text checked word by word against its source."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract_samples import paragraph, source_text, word_ratio
from pdf_factory import write_pdf
from policylens.extract import Document, ExtractSettings, extract

HEADER = "Model Rules on Automated Decisions - Consultation Draft"
FOOTER = "Published by the Office of Examples, March 2024"

PAGES = [
    [
        "# Article 1",
        "# Subject matter",
        paragraph(0, 5),
        "The rules cover cross-sector duties and sector work alike. " + paragraph(5, 3),
        "# Article 2",
        "# Obligations of providers",
        "1. Providers of high-risk tools shall keep a register of uses. " + paragraph(8, 2),
        "(a) the name of the tool and its version;",
        "(b) the purpose for which it is used;",
    ],
    [
        paragraph(10, 6),
        "This text sets out the regu-\nlation of scoring and its cross-\nsector reach. " + paragraph(16, 3),
        "# Article 3",
        "# Oversight",
        paragraph(19, 8),
    ],
    [paragraph(27, 10), paragraph(37, 6)],
]
NOTES = {0: ["1 The register is kept by the coordinating office.", "2 Small firms are exempt until 2027."]}


@pytest.fixture(scope="module")
def rules_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "model_rules.pdf"
    return write_pdf(path, PAGES, header=HEADER, footer=FOOTER, footnotes=NOTES,
                     title="Model Rules on Automated Decisions")


@pytest.fixture(scope="module")
def rules(rules_pdf: Path) -> Document:
    return extract(rules_pdf)


def _body(document: Document) -> str:
    return " ".join(b.text for b in document.body_blocks)


def test_body_text_matches_source_word_by_word(rules: Document) -> None:
    expected = source_text([p for page in PAGES for p in page])
    assert word_ratio(expected, _body(rules)) >= 0.99


def test_running_headers_footers_and_page_numbers_are_removed(rules: Document) -> None:
    assert rules.n_pages >= 3
    for block in rules.blocks:
        assert "Consultation Draft" not in block.text
        assert "Office of Examples" not in block.text
        assert "Page " not in block.text


def test_line_end_hyphens_are_repaired_but_real_hyphens_kept(rules: Document) -> None:
    body = _body(rules)
    assert "the regulation of scoring" in body
    assert "regu-" not in body and "regu lation" not in body
    assert "its cross-sector reach" in body
    assert "high-risk tools" in body


def test_articles_become_headings_and_sections(rules: Document) -> None:
    headings = [b.text for b in rules.blocks if b.kind == "heading"]
    assert headings[:3] == ["Article 1 Subject matter", "Article 2 Obligations of providers",
                            "Article 3 Oversight"]
    item = next(b for b in rules.blocks if b.text.startswith("(a) the name"))
    assert item.kind == "list_item"
    assert item.section == "Article 2 Obligations of providers"
    assert item.page == 1
    numbered = next(b for b in rules.blocks if b.text.startswith("1. Providers"))
    assert numbered.kind == "list_item"


def test_footnotes_are_separate_blocks_on_their_page(rules: Document) -> None:
    notes = [b for b in rules.blocks if b.kind == "footnote"]
    assert [n.text for n in notes] == [
        "1 The register is kept by the coordinating office.", "2 Small firms are exempt until 2027."]
    assert {n.page for n in notes} == {1}
    assert "exempt until 2027" not in _body(rules)


def test_blocks_carry_their_page_numbers(rules: Document) -> None:
    oversight = next(b for b in rules.blocks if b.text == "Article 3 Oversight")
    assert oversight.page == 2
    assert max(b.page or 0 for b in rules.blocks) == rules.n_pages


def test_title_comes_from_metadata_and_quality_is_good(rules: Document) -> None:
    assert rules.title == "Model Rules on Automated Decisions"
    assert rules.quality.verdict == "good"
    assert rules.quality.issues == ()
    data = rules.to_dict()
    assert set(data) == {"source", "sha256", "title", "n_pages", "metadata", "quality", "blocks"}
    assert Document.from_dict(data) == rules


def test_plumber_engine_reads_the_same_words(rules_pdf: Path) -> None:
    expected = source_text([p for page in PAGES for p in page])
    document = extract(rules_pdf, {"pdf_engine": "plumber"})
    assert word_ratio(expected, _body(document)) >= 0.99
    assert document.metadata["pdf_engine"] == "plumber"


def test_max_pages_stops_early(rules_pdf: Path) -> None:
    document = extract(rules_pdf, ExtractSettings(max_pages=1))
    assert {b.page for b in document.blocks} == {1}
    assert document.metadata["pages_read"] == "1"


def test_keeping_headers_when_asked(rules_pdf: Path) -> None:
    document = extract(rules_pdf, {"remove_headers": False})
    assert any("Consultation Draft" in b.text for b in document.blocks)


def test_two_columns_are_read_column_by_column(tmp_path: Path) -> None:
    pages = [[paragraph(i * 12, 6), paragraph(i * 12 + 6, 6)] for i in range(3)]
    path = write_pdf(tmp_path / "columns.pdf", pages, columns=2, header=HEADER,
                     page_number_format="{n}")
    document = extract(path)
    expected = source_text([p for page in pages for p in page])
    assert word_ratio(expected, _body(document)) >= 0.99
    assert not any(HEADER in b.text for b in document.blocks)


def test_title_falls_back_to_largest_font_then_stem(tmp_path: Path) -> None:
    titled = write_pdf(tmp_path / "a.pdf", [["# Guidance on Public Sector Scoring", paragraph(0, 3)]],
                       page_numbers=False)
    assert extract(titled).title == "Guidance on Public Sector Scoring"
    plain = write_pdf(tmp_path / "plain_notes.pdf", [[paragraph(0, 3)]], page_numbers=False)
    assert extract(plain).title == "plain_notes"

"""Fonts with absurd ascent/descent (5.6 em) must not merge lines into one row and scramble the page."""

from __future__ import annotations

from pathlib import Path

from extract_samples import paragraph, source_text, word_ratio
from pdf_factory import write_tall_metrics_pdf
from policylens.extract import extract

PAGES = [["# Govern 1.1", paragraph(0, 3), paragraph(3, 3), "# Govern 1.2", paragraph(6, 4)],
         [paragraph(10, 5), "# Govern 1.3", paragraph(15, 3)]]


def test_tall_font_metrics_keep_reading_order_and_a_good_verdict(tmp_path: Path) -> None:
    document = extract(write_tall_metrics_pdf(tmp_path / "tall.pdf", PAGES))
    headings = [b.text for b in document.blocks if b.kind == "heading"]
    assert headings == ["Govern 1.1", "Govern 1.2", "Govern 1.3"]
    expected = source_text([p for page in PAGES for p in page])
    assert word_ratio(expected, " ".join(b.text for b in document.blocks)) >= 0.99
    paragraphs = [b.text for b in document.blocks if b.kind == "paragraph"]
    assert paragraphs[0] == paragraph(0, 3) and paragraphs[1] == paragraph(3, 3)
    assert document.quality.verdict == "good", document.quality.issues

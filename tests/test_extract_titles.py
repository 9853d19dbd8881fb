"""Titles from page 1 when the metadata has none: banners, memo subjects, same-size bold titles."""

from __future__ import annotations

from pathlib import Path

from extract_samples import paragraph
from pdf_factory import MARGIN, Drawn, body_lines, write_drawn_pdf, write_pdf
from policylens.extract import extract


def _pages(cover: list[Drawn], *, body_top: float) -> list[list[Drawn]]:
    return [cover + body_lines(paragraph(0, 6), top=body_top),
            body_lines(paragraph(6, 10), top=80) + body_lines(paragraph(16, 10), top=300)]


def test_a_top_banner_is_skipped_and_a_two_line_title_is_joined(tmp_path: Path) -> None:
    cover = [Drawn("Official Bulletin", MARGIN, 50, size=18, bold=True),
             Drawn("Rules on Automated Scoring in", MARGIN, 160, size=16, bold=True),
             Drawn("Public Benefit Decisions", MARGIN, 180, size=16, bold=True),
             Drawn("12 March 2024", MARGIN, 210, size=16)]
    path = write_drawn_pdf(tmp_path / "bulletin.pdf", _pages(cover, body_top=260))
    assert extract(path).title == "Rules on Automated Scoring in Public Benefit Decisions"


def test_a_memo_takes_its_subject_line_even_when_wrapped(tmp_path: Path) -> None:
    cover = [Drawn("MEMORANDUM FOR THE HEADS OF ALL AGENCIES", MARGIN, 120, size=12),
             Drawn("FROM:", MARGIN, 150, size=12), Drawn("The Budget Office", MARGIN + 70, 150, size=12),
             Drawn("SUBJECT: Managing the Risks of Automated Decisions in", MARGIN, 180, size=12),
             Drawn("Benefit Programmes", MARGIN + 70, 195, size=12)]
    path = write_drawn_pdf(tmp_path / "m_24_99.pdf", _pages(cover, body_top=240))
    assert extract(path).title == "Managing the Risks of Automated Decisions in Benefit Programmes"


def test_body_size_bold_title_beats_a_shorter_bold_label_and_a_big_language_tag(tmp_path: Path) -> None:
    cover = [Drawn("COMMUNICATION FROM THE OFFICE", MARGIN + 100, 290, bold=True),
             Drawn("Guidelines on the scoring practices that public bodies must not use,", MARGIN, 320,
                   bold=True),
             Drawn("adopted under the Model Rules", MARGIN + 80, 333, bold=True),
             Drawn("EN", MARGIN, 790, size=20, bold=True), Drawn("EN", 500, 790, size=20, bold=True)]
    path = write_drawn_pdf(tmp_path / "guidelines_2025.pdf", _pages(cover, body_top=400))
    assert extract(path).title == ("Guidelines on the scoring practices that public bodies must not use, "
                                   "adopted under the Model Rules")


def test_meaningful_metadata_wins_and_a_bare_page_falls_back_to_the_stem(tmp_path: Path) -> None:
    cover = [Drawn("Some Other Heading Text", MARGIN, 150, size=20, bold=True)]
    titled = write_drawn_pdf(tmp_path / "titled.pdf", _pages(cover, body_top=200), title="The Real Title")
    assert extract(titled).title == "The Real Title"
    plain = write_pdf(tmp_path / "plain_memo_notes.pdf", [[paragraph(0, 3)]], page_numbers=False)
    assert extract(plain).title == "plain_memo_notes"

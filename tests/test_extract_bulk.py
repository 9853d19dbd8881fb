"""The whole-page reader (``pdfium_bulk``) must return exactly what the word-by-word reader does."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest

from extract_samples import paragraph
from pdf_factory import Drawn, write_drawn_pdf, write_pdf, write_table_pdf, write_tall_metrics_pdf
from policylens.extract import pdfium_bulk, pdfium_reader


def _both(path: Path, *, tables: bool = True) -> tuple[list[object], list[object]]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        bulk = [pdfium_reader.read_page(pdf, i, tables=tables) for i in range(len(pdf))]
        word = [pdfium_reader.read_page(pdf, i, tables=tables, bulk=False) for i in range(len(pdf))]
    finally:
        pdf.close()
    return bulk, word


@pytest.fixture
def bulk_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, per page read, whether the whole-page path answered (``False``: it handed back)."""
    calls: list[bool] = []
    original = pdfium_bulk.read_lines

    def spy(*args: object) -> object:
        result = original(*args)  # type: ignore[arg-type]
        calls.append(result is not None)
        return result

    monkeypatch.setattr(pdfium_bulk, "read_lines", spy)
    return calls


def test_separators_are_what_str_split_splits_at() -> None:
    breaks = {0x0A, 0x0D, 0xFFFE, 0x02}
    for code in range(65536):
        if 0xD800 <= code < 0xE000:
            continue
        assert bool(pdfium_bulk._SEPARATOR[code]) == (chr(code).isspace() or code in breaks), hex(code)


def test_paragraphs_footnotes_hyphens_and_headers(tmp_path: Path, bulk_calls: list[bool]) -> None:
    broken = "The regu-\nlation of cross-\nsector tools. " + paragraph(6, 3)
    pages = [["# Article 1", paragraph(0, 6), broken], [paragraph(9, 8), "# Article 2", paragraph(17, 4)]]
    path = write_pdf(tmp_path / "rules.pdf", pages, header="Model Rules - Draft", footer="Page footer",
                     footnotes={0: ["1 A note at the foot.", "2 Another note."]})
    bulk, word = _both(path)
    assert bulk == word
    assert bulk_calls and all(bulk_calls)


def test_two_columns(tmp_path: Path, bulk_calls: list[bool]) -> None:
    path = write_pdf(tmp_path / "columns.pdf", [[paragraph(0, 12), paragraph(12, 12)]], columns=2)
    bulk, word = _both(path)
    assert bulk == word
    assert any(page.lines for page in bulk) and all(bulk_calls)


def test_gaps_raised_references_and_glued_numbers(tmp_path: Path, bulk_calls: list[bool]) -> None:
    # Words drawn one by one (each its own text object, as the EU Official Journal does), a
    # wide gap between two cells, a raised small reference after a word and one glued to it.
    drawn = [
        Drawn("Name", 72, 100), Drawn("Value", 300, 100),
        Drawn("The", 72, 130), Drawn("Regulation", 92, 130), Drawn("1", 140, 127, size=6),
        Drawn("applies", 146, 130),
        Drawn("Union.", 72, 160), Drawn("2", 101.5, 157, size=6), Drawn("and more words follow", 110, 160),
        Drawn("A line of one text object with    extra   spaces inside it.", 72, 190),
        Drawn("Small", 72, 220, size=7), Drawn("then larger", 95, 220, size=12),
        Drawn("The", 72, 250), Drawn("Directive", 92, 250), Drawn("3", 137, 247, size=6),
        Drawn("applies", 145, 250), Drawn("Large", 72, 280, size=12), Drawn("then small", 110, 280, size=7),
    ]
    path = write_drawn_pdf(tmp_path / "drawn.pdf", [drawn])
    bulk, word = _both(path, tables=False)
    assert bulk == word
    assert all(bulk_calls)


def test_broken_font_metrics_are_left_to_the_word_reader(tmp_path: Path, bulk_calls: list[bool]) -> None:
    path = write_tall_metrics_pdf(tmp_path / "tall.pdf", [[paragraph(0, 5)]])
    bulk, word = _both(path)
    assert bulk == word
    assert bulk_calls and not any(bulk_calls)


def test_ruled_tables_take_their_words(tmp_path: Path, bulk_calls: list[bool]) -> None:
    rows = [["Duty", "Who", "When"], ["Publish a summary", "Each regulator", "Yearly"],
            ["Keep logs", "Every provider", "Always"]]
    path = write_table_pdf(tmp_path / "table.pdf", [paragraph(0, 3)], rows, [paragraph(3, 3)],
                           boxed="A paragraph drawn inside a frame is no table.")
    bulk, word = _both(path)
    assert bulk == word
    assert any(line.table for page in bulk for line in page.lines) and all(bulk_calls)


def test_pointer_arg_passes_the_handle_and_boxes_survive_a_larger_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``pointer_arg`` carries a handle's own value, and the reused box buffer grows for a page
    with more words than any before it (76 words, then 790) and still reads what the word path does."""
    import pypdfium2.raw as raw

    monkeypatch.setattr(pdfium_bulk, "_MIN_BOXES", 8)
    monkeypatch.setattr(pdfium_bulk._BoxBuffer, "slots", ((raw.FS_RECTF * 0)(), []))

    from policylens.extract.pdfium_calls import pointer_arg, unchecked

    pages = [[paragraph(i)] for i in range(2)] + [[paragraph(i) for i in range(30)]]
    path = write_pdf(tmp_path / "grow.pdf", pages)
    pdf = pdfium.PdfDocument(str(path))
    try:
        page = raw.FPDF_LoadPage(pdf.raw, 0)
        text = raw.FPDFText_LoadPage(page)
        assert unchecked("FPDFText_CountChars")(pointer_arg(text)) == raw.FPDFText_CountChars(text) > 0
        raw.FPDFText_ClosePage(text)
        raw.FPDF_ClosePage(page)
    finally:
        pdf.close()
    bulk, word = _both(path)
    assert bulk == word

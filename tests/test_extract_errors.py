"""Bad input gives one clear ExtractionError, never a traceback from a PDF library."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from extract_samples import paragraph
from pdf_factory import (
    write_encrypted_pdf,
    write_image_only_pdf,
    write_truncated_pdf,
    write_zero_page_pdf,
)
from policylens.errors import (
    CorruptFile,
    EmptyFile,
    EncryptedPDF,
    ExtractionError,
    NoTextLayer,
    PolicylensError,
    UnsupportedFileType,
    UsageError,
)
from policylens.extract import ExtractSettings, extract

PAGES = [[paragraph(0, 4)], [paragraph(4, 4)]]


def test_encrypted_with_empty_password_opens(tmp_path: Path) -> None:
    path = write_encrypted_pdf(tmp_path / "open.pdf", PAGES, password="")
    assert "yearly summary of incidents" in extract(path).text


def test_encrypted_with_password_needs_it(tmp_path: Path) -> None:
    path = write_encrypted_pdf(tmp_path / "locked.pdf", PAGES, password="s3cret")
    with pytest.raises(EncryptedPDF, match="encrypted PDF: pass --password"):
        extract(path)
    with pytest.raises(EncryptedPDF, match="wrong password"):
        extract(path, password="guess")
    assert "yearly summary of incidents" in extract(path, password="s3cret").text
    assert "yearly summary" in extract(path, {"pdf_engine": "plumber", "password": "s3cret"}).text


def test_truncated_pdf_is_corrupt(tmp_path: Path) -> None:
    with pytest.raises(CorruptFile, match="damaged or truncated"):
        extract(write_truncated_pdf(tmp_path / "cut.pdf", PAGES))


def test_zero_page_pdf_is_corrupt(tmp_path: Path) -> None:
    with pytest.raises(CorruptFile):
        extract(write_zero_page_pdf(tmp_path / "zero.pdf"))


def test_html_named_pdf_is_rejected_by_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "download.pdf"
    path.write_text("<!DOCTYPE html><html><body><p>Please sign in</p></body></html>")
    with pytest.raises(UnsupportedFileType, match="not a PDF: the file holds an HTML page"):
        extract(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(EmptyFile):
        extract(path)
    blank = tmp_path / "blank.txt"
    blank.write_text("  \n\n ")
    with pytest.raises(EmptyFile):
        extract(blank)


def test_wrong_file_types(tmp_path: Path) -> None:
    docx = tmp_path / "memo.docx"
    docx.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(UnsupportedFileType, match="use PDF"):
        extract(docx)
    csv = tmp_path / "table.csv"
    csv.write_text("a,b\n1,2\n")
    with pytest.raises(UnsupportedFileType, match=r"unsupported file type \.csv"):
        extract(csv)


def test_image_only_pdf_has_no_text_layer(tmp_path: Path) -> None:
    path = write_image_only_pdf(tmp_path / "scan.pdf", n_pages=2)
    with pytest.raises(NoTextLayer, match="rerun with --ocr"):
        extract(path)
    if shutil.which("ocrmypdf") is None:
        with pytest.raises(NoTextLayer, match="ocrmypdf is not on PATH"):
            extract(path, {"ocr": True})


def test_scanned_pages_inside_a_text_pdf_are_listed_in_quality(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    from pdf_factory import write_pdf

    text = pdfium.PdfDocument(str(write_pdf(tmp_path / "text.pdf", PAGES)))
    scan = pdfium.PdfDocument(str(write_image_only_pdf(tmp_path / "scan.pdf", n_pages=1)))
    text.import_pages(scan)
    mixed = tmp_path / "mixed.pdf"
    text.save(str(mixed))
    text.close()
    scan.close()
    quality = extract(mixed).quality
    assert quality.empty_pages == (3,)
    assert "no text layer on pages 3" in quality.issues
    assert quality.verdict == "fair"
    assert quality.text_coverage == pytest.approx(2 / 3)


def test_settings_are_validated() -> None:
    with pytest.raises(UsageError, match="unknown PDF engine"):
        ExtractSettings(pdf_engine="ocr")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="unknown extract setting"):
        ExtractSettings.resolve({"engine": "pdfium"})
    with pytest.raises(UsageError, match="max_pages"):
        ExtractSettings.resolve({"max_pages": 0})
    assert ExtractSettings.resolve(None) == ExtractSettings()


def test_binary_bytes_in_a_text_file_say_so(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"\x00\x01\x02\x03garbage\x00" * 20)
    with pytest.raises(UnsupportedFileType, match=r"binary content in a \.txt file"):
        extract(junk)


@pytest.mark.skipif(shutil.which("ocrmypdf") is None,
                    reason="ocrmypdf is not installed (.ci/run installs it)")
def test_ocr_reads_a_scanned_page_when_asked(tmp_path: Path) -> None:
    from pdf_factory import write_scanned_text_pdf

    lines = ["Existing regulators will supervise the use", "of artificial intelligence in their sectors.",
             "No new central authority will be created."]
    path = write_scanned_text_pdf(tmp_path / "scan.pdf", lines)
    with pytest.raises(NoTextLayer):
        extract(path)
    document = extract(path, {"ocr": True})
    words = " ".join(b.text for b in document.blocks).lower().split()
    expected = " ".join(lines).lower().split()
    found = sum(1 for w in expected if w in words)
    assert found / len(expected) >= 0.9, words
    assert document.metadata.get("ocr") == "ocrmypdf"
    assert document.title != "ocr"  # regression: the title came from the OCR temp file's name


@pytest.mark.skipif(shutil.which("ocrmypdf") is None,
                    reason="ocrmypdf is not installed (.ci/run installs it)")
def test_ocr_reads_the_scanned_page_of_a_mixed_pdf_and_keeps_the_text_pages(tmp_path: Path) -> None:
    # Regression: OCR ran only when every page was a scan, so a scanned annex was never read.
    from pdf_factory import write_mixed_pdf

    typed = ["Article 1. This Regulation applies to providers of AI systems in the Union."]
    scanned = ["Annex. Existing regulators will supervise the use",
               "of artificial intelligence in their sectors."]
    path = write_mixed_pdf(tmp_path / "mixed.pdf", typed, scanned)
    plain = extract(path)
    assert plain.quality.empty_pages == (2,)  # without --ocr the scanned page is reported, not read
    document = extract(path, {"ocr": True})
    text = " ".join(b.text for b in document.blocks)
    assert typed[0] in text  # the typed page keeps its own text layer, word for word
    words = text.lower().split()
    expected = " ".join(scanned).lower().split()
    assert sum(1 for w in expected if w in words) / len(expected) >= 0.9, words
    assert document.metadata.get("ocr") == "ocrmypdf on pages 2"
    assert document.quality.empty_pages == ()


def test_a_named_pipe_is_refused_instead_of_blocking_the_read(tmp_path: Path) -> None:
    # Regression: extract() read a FIFO (or /dev/zero) with read_bytes(), which never returned.
    pipe = tmp_path / "incoming.txt"
    os.mkfifo(pipe)
    with pytest.raises(UnsupportedFileType, match="not a regular file"):
        extract(pipe)


def test_a_missing_file_is_an_extraction_error_not_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="cannot read the file: No such file"):
        extract(tmp_path / "gone.pdf")


def _fpdf2_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Sector Rules")
    pdf.set_font("Helvetica", size=11)
    for start in (0, 6):
        pdf.add_page()
        pdf.multi_cell(0, 6, paragraph(start, 6))
    pdf.output(str(path))
    return path


@pytest.fixture(scope="module")
def valid_pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    from pdf_factory import write_pdf, write_table_pdf

    tmp = tmp_path_factory.mktemp("fuzz")
    made = [write_pdf(tmp / "rules.pdf", PAGES, header="Draft", title="Rules"),
            write_table_pdf(tmp / "table.pdf", [paragraph(0, 2)], [["Sector", "Duty"], ["Health", "Audit"],
                                                                   ["Energy", "Report"]], [paragraph(2, 2)]),
            _fpdf2_pdf(tmp / "fpdf2.pdf")]
    return [path.read_bytes() for path in made]


def _damaged(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    """~20 truncations, ~20 overwritten runs and ~20 sets of flipped bytes of one valid PDF."""
    variants = [(f"cut at {cut}", data[:cut])
                for cut in sorted({0, 3, 9, len(data) - 1, *rng.sample(range(len(data)), 16)})]
    for _ in range(20):
        start = rng.randrange(len(data))
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        variants.append((f"junk at {start}", data[:start] + junk + data[start + len(junk):]))
    for _ in range(20):
        flipped = bytearray(data)
        for offset in rng.sample(range(len(data)), rng.randrange(1, 12)):
            flipped[offset] ^= 1 << rng.randrange(8)
        variants.append((f"flips {rng.random():.6f}", bytes(flipped)))
    return variants


def test_damaged_pdfs_extract_or_raise_a_policylens_error_never_anything_else(
        valid_pdfs: list[bytes], tmp_path: Path) -> None:
    # Regression: pdf_errors mapped every ValueError/KeyError to CorruptFile, hiding our own bugs; it
    # now maps only what the PDF libraries raise. This pins that a damaged file still only ever gives
    # a Document or a PolicylensError (seeded, so a failure replays).
    rng = random.Random(20261122)
    target = tmp_path / "damaged.pdf"
    outcomes: dict[str, int] = {}
    for number, data in enumerate(valid_pdfs):
        for what, damaged in _damaged(data, rng):
            target.write_bytes(damaged)
            for engine in ("auto", "plumber"):
                try:
                    extract(target, {"pdf_engine": engine})
                    kind = "ok"
                except PolicylensError as exc:
                    kind = type(exc).__name__
                except Exception as exc:  # the bug this test is for
                    pytest.fail(f"pdf {number}, {what}, {engine}: {type(exc).__name__}: {exc}")
                outcomes[kind] = outcomes.get(kind, 0) + 1
    assert outcomes.get("ok", 0) > 0 and outcomes.get("CorruptFile", 0) > 0, outcomes


def test_pdf_errors_maps_what_pdf_libraries_raise_not_our_own_value_errors(tmp_path: Path) -> None:
    # Regression: any ValueError/KeyError inside pdf_errors became CorruptFile, so a bug of ours
    # on a good PDF read as "damaged PDF".
    from pdfminer.ascii85 import ascii85decode
    from pdfminer.pdfparser import PDFSyntaxError

    from policylens.extract.pdf import pdf_errors

    path = tmp_path / "x.pdf"
    with pytest.raises(CorruptFile, match=r"damaged PDF \(ValueError: Non-Ascii85"), pdf_errors(path, None):
        ascii85decode(b"{{{{{")  # pdfminer's plain ValueError on a broken stream
    with pytest.raises(CorruptFile, match="PDFSyntaxError: No /Root"), pdf_errors(path, None):
        raise PDFSyntaxError("No /Root object!")
    for ours in (KeyError("title"), ValueError("bad width"), IndexError("page 9")):
        with pytest.raises(type(ours)), pdf_errors(path, None):
            raise ours

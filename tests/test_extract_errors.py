"""Bad input gives one clear ExtractionError, never a traceback from a PDF library."""

from __future__ import annotations

import os
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


def test_a_named_pipe_is_refused_instead_of_blocking_the_read(tmp_path: Path) -> None:
    # Regression: extract() read a FIFO (or /dev/zero) with read_bytes(), which never returned.
    pipe = tmp_path / "incoming.txt"
    os.mkfifo(pipe)
    with pytest.raises(UnsupportedFileType, match="not a regular file"):
        extract(pipe)


def test_a_missing_file_is_an_extraction_error_not_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="cannot read the file: No such file"):
        extract(tmp_path / "gone.pdf")

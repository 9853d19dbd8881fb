"""``ExtractSettings``: every knob of the extraction stage, validated in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from policylens.errors import UsageError
from policylens.settings import resolve_settings

PdfEngine = Literal["auto", "pdfium", "plumber"]
PDF_ENGINES: tuple[PdfEngine, ...] = ("auto", "pdfium", "plumber")


@dataclass(frozen=True, slots=True)
class ExtractSettings:
    """How documents are read.

    ``pdf_engine`` picks the PDF reader: ``pdfium`` (fast, pypdfium2), ``plumber``
    (pdfplumber, slower, geometric line order) or ``auto`` (pdfium, re-reading with
    pdfplumber only the pages whose pdfium text looks unreliable; see docs/extract.md).
    ``max_pages`` stops after that many pages (``None``: all). ``ocr`` runs
    ``ocrmypdf``, when it is installed, on PDFs with no text layer at all, and on the
    image-only pages of a PDF whose other pages have text (those keep their own text).
    ``tables`` turns ruled tables in PDFs into ``table`` blocks (rows of cells
    joined by ``" | "``) instead of leaving their words in the paragraphs.
    """

    pdf_engine: PdfEngine = "auto"
    password: str | None = None
    ocr: bool = False
    remove_headers: bool = True
    repair_hyphens: bool = True
    separate_footnotes: bool = True
    max_pages: int | None = None
    tables: bool = True

    def __post_init__(self) -> None:
        if self.pdf_engine not in PDF_ENGINES:
            raise UsageError(f"unknown PDF engine {self.pdf_engine!r}: use one of {', '.join(PDF_ENGINES)}")
        if self.max_pages is not None and self.max_pages < 1:
            raise UsageError(f"max_pages must be at least 1, not {self.max_pages}")

    @classmethod
    def resolve(cls, value: ExtractSettings | Mapping[str, Any] | None = None) -> ExtractSettings:
        """Accept ``None`` (defaults), a mapping of field values, or an instance."""
        return resolve_settings(cls, value, what="extract")

"""PDF files → ``Document``: open, read page by page, clean, structure, judge.

Pages are read one at a time and closed straight away (only their text lines
are kept), so memory stays bounded on very large PDFs. Every pdfium/pdfminer
exception is turned into an ``ExtractionError`` subclass here and only here.
PDFium is entered only under ``PDFIUM_LOCK`` (see ``pdfium_lock.py``): it is not
thread-safe, and threads may extract PDFs side by side.

``auto`` engine rule: every page is read with pdfium; a page whose pdfium text
has more than 2% garbled characters (replacement, private-use or control
characters) is read again with pdfplumber and the less garbled reading is kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as raw

from policylens.errors import CorruptFile, EncryptedPDF, ExtractionError, NoTextLayer
from policylens.extract import pdfium_reader, plumber_reader
from policylens.extract.document import Document
from policylens.extract.layout import order_page, remove_running_lines
from policylens.extract.lines import PageLines
from policylens.extract.paragraphs import PageLayout, assemble, body_size
from policylens.extract.pdfium_lock import PDFIUM_LOCK
from policylens.extract.quality import assess, garbled_share, page_ranges
from policylens.extract.settings import ExtractSettings
from policylens.extract.structure import with_sections
from policylens.extract.title import choose_title

_RETRY_GARBLED = 0.02
_OCR_TIMEOUT = 1800  # seconds; a long scanned report takes minutes, not hours


# Plain exceptions that pdfminer and pdfplumber let out on broken bytes (a None mediabox, a
# keyword where a number belongs, a short xref stream, a bad Flate stream). They mean a bad
# file only when raised inside those libraries: from policylens code they are bugs.
_PLAIN_LIBRARY_ERRORS = (ValueError, KeyError, IndexError, TypeError, AttributeError, EOFError,
                         ArithmeticError, AssertionError, RecursionError, struct.error, zlib.error)
_PDF_LIBRARIES = frozenset({"pdfminer", "pdfplumber", "pypdfium2", "pypdfium2_raw"})


@contextlib.contextmanager
def pdf_errors(path: Path, password: str | None) -> Iterator[None]:
    """The one place that maps reader exceptions to policylens errors.

    Mapped: ``pypdfium2.PdfiumError``; pdfminer's ``PSException`` family (``PDFSyntaxError``,
    ``PSEOF``, ``PDFNoValidXRef``, ``PDFPasswordIncorrect``...); pdfplumber's
    ``PdfminerException`` (which wraps them) and ``MalformedPDFException``; and the plain
    errors above when the PDF libraries raised them. Anything else propagates.
    """
    try:
        yield
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == raw.FPDF_ERR_PASSWORD:
            raise EncryptedPDF(_password_message(password), path=str(path)) from None
        if code == raw.FPDF_ERR_SECURITY:
            raise EncryptedPDF("unsupported PDF encryption", path=str(path)) from None
        raise CorruptFile(f"damaged or truncated PDF ({exc})", path=str(path)) from None
    except ExtractionError:
        raise
    except Exception as exc:
        error = _library_error(exc, path, password)
        if error is None:
            raise
        raise error from None


def _password_message(password: str | None) -> str:
    return "wrong password for encrypted PDF" if password else "encrypted PDF: pass --password"


def _library_error(exc: Exception, path: Path, password: str | None) -> ExtractionError | None:
    """The error to report if a PDF library raised ``exc`` over a bad file, else ``None`` (a bug)."""
    if not isinstance(exc, _named_library_errors()) and not (
            isinstance(exc, _PLAIN_LIBRARY_ERRORS) and _raised_by_library(exc)):
        return None
    cause = _unwrap(exc)
    if "pdfminer" in sys.modules:
        from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

        if isinstance(cause, PDFPasswordIncorrect):
            return EncryptedPDF(_password_message(password), path=str(path))
        if isinstance(cause, PDFEncryptionError):
            return EncryptedPDF(f"unsupported PDF encryption ({cause})", path=str(path))
    return CorruptFile(f"damaged PDF ({type(cause).__name__}: {cause})", path=str(path))


def _unwrap(exc: Exception) -> Exception:
    """pdfminer's exception inside pdfplumber's ``PdfminerException(e)``, else ``exc``."""
    if "pdfplumber" in sys.modules:
        from pdfplumber.utils.exceptions import PdfminerException

        if isinstance(exc, PdfminerException) and exc.args and isinstance(exc.args[0], Exception):
            return exc.args[0]
    return exc


def _named_library_errors() -> tuple[type[Exception], ...]:
    """pdfminer's and pdfplumber's own exception classes (only if loaded: else they raised nothing)."""
    named: list[type[Exception]] = []
    if "pdfminer" in sys.modules:
        from pdfminer.psexceptions import PSException  # PDFException, PDFSyntaxError, PSEOF...

        named.append(PSException)
    if "pdfplumber" in sys.modules:
        from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

        named += [MalformedPDFException, PdfminerException]
    return tuple(named)


def _raised_by_library(exc: BaseException) -> bool:
    """Was ``exc`` raised in PDF library code (rather than in policylens code calling it)?

    The innermost frame of either decides; standard-library frames in between are skipped.
    """
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        package = str(frame.f_globals.get("__name__", "")).partition(".")[0]
        if package in _PDF_LIBRARIES:
            return True
        if package == "policylens":
            return False
    return False


def read_pdf(path: Path, sha256: str, settings: ExtractSettings) -> Document:
    """Extract one PDF (the file is known to start with ``%PDF``)."""
    password = settings.password
    # PDFium is entered only under PDFIUM_LOCK: here, and page by page in pdfium_reader.
    with pdf_errors(path, password), PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(path), password=password)
    try:
        with pdf_errors(path, password):
            with PDFIUM_LOCK:
                n_pages = len(pdf)
                if n_pages == 0:
                    raise CorruptFile("the PDF has no pages", path=str(path))
                metadata = {k.lower(): str(v).strip() for k, v in pdf.get_metadata_dict().items()
                            if v and str(v).strip()}
            pages, engines = _read_pages(pdf, path, settings, n_pages)
    finally:
        with PDFIUM_LOCK:
            pdf.close()

    if not any(p.lines for p in pages):
        return _no_text_layer(path, sha256, settings)
    scanned = [p.number for p in pages if not p.lines and not p.blank]
    if scanned and settings.ocr and shutil.which("ocrmypdf") is not None:
        # A born-digital text with scanned pages (an annex, a signed page): OCR those pages only.
        return _ocr(path, sha256, settings, pages=scanned)
    if engines:
        metadata["pdf_engine"] = engines
    return build_document(path, sha256, pages, metadata, settings, n_pages=n_pages)


def build_document(path: Path, sha256: str, pages: list[PageLines], metadata: dict[str, str],
                   settings: ExtractSettings, *, n_pages: int) -> Document:
    """Clean and structure the page lines of one PDF into a ``Document``."""
    # Pages without text but with an image lack a text layer; blank pages lack nothing.
    empty = [p.number for p in pages if not p.lines and not p.blank]
    if settings.remove_headers:
        remove_running_lines(pages)
    layouts: list[PageLayout] = []
    scrambled: list[int] = []
    for page in pages:
        order = order_page(page)
        if order.unrecognised_columns:
            scrambled.append(page.number)
        layouts.append(PageLayout(page.number, page.height, order.lines))
    raw_blocks, hyphenation = assemble(layouts, repair_hyphens=settings.repair_hyphens,
                                       separate_footnotes=settings.separate_footnotes)
    blocks = with_sections(raw_blocks)
    first = layouts[0] if layouts and layouts[0].number == 1 and layouts[0].lines else None
    title = choose_title(metadata.get("title", ""), first.lines if first else None,
                         first.height if first else 0.0, body_size(layouts), path, hyphenation)
    text = "\n".join(b.text for b in blocks)
    quality = assess(text, n_pages=len(pages), empty_pages=empty, scrambled_pages=scrambled)
    if len(pages) < n_pages:
        metadata = {**metadata, "pages_read": str(len(pages))}
    return Document(source=str(path), sha256=sha256, title=title, n_pages=n_pages, blocks=blocks,
                    metadata=metadata, quality=quality)


def _read_pages(pdf: pdfium.PdfDocument, path: Path, settings: ExtractSettings,
                n_pages: int) -> tuple[list[PageLines], str]:
    limit = min(n_pages, settings.max_pages or n_pages)
    plumber_doc: Any = None
    pages: list[PageLines] = []
    retried: list[int] = []
    try:
        for index in range(limit):
            if settings.pdf_engine == "plumber":
                plumber_doc = plumber_doc or _open_plumber(path, settings.password)
                plumber_page = _plumber_page(plumber_doc, index, settings.tables)
                if plumber_page is None:
                    raise CorruptFile(f"damaged page tree: pdfplumber finds {len(plumber_doc.pages)} "
                                      f"pages, pdfium {n_pages}; try --pdf-engine pdfium", path=str(path))
                pages.append(plumber_page)
                continue
            page = pdfium_reader.read_page(pdf, index, tables=settings.tables)
            if settings.pdf_engine == "auto" and page.lines:
                bad = garbled_share(" ".join(line.text for line in page.lines))
                if bad > _RETRY_GARBLED:
                    plumber_doc = plumber_doc or _open_plumber(path, settings.password)
                    other = _plumber_page(plumber_doc, index, settings.tables)
                    if other is not None and garbled_share(" ".join(line.text for line in other.lines)) < bad:
                        page = other
                        retried.append(index + 1)
            pages.append(page)
    finally:
        if plumber_doc is not None:
            plumber_doc.close()
    if settings.pdf_engine == "plumber":
        return pages, "plumber"
    if retried:
        return pages, f"pdfium, plumber on pages {', '.join(map(str, retried))}"
    return pages, ""


def _plumber_page(plumber_doc: Any, index: int, tables: bool) -> PageLines | None:
    """Page ``index`` read by pdfplumber, or ``None`` if its page tree (damaged) ends before it."""
    if index >= len(plumber_doc.pages):
        return None
    return plumber_reader.read_page(plumber_doc, index, tables=tables)


def _open_plumber(path: Path, password: str | None) -> Any:
    import pdfplumber  # imported on demand: most documents never need it

    return pdfplumber.open(str(path), password=password or "")


def _no_text_layer(path: Path, sha256: str, settings: ExtractSettings) -> Document:
    """Every page is an image: OCR when asked and possible, else a clear error."""
    if not settings.ocr:
        raise NoTextLayer("no text layer on any page (a scan?): rerun with --ocr (needs ocrmypdf)",
                          path=str(path))
    if shutil.which("ocrmypdf") is None:
        raise NoTextLayer("no text layer on any page and ocrmypdf is not on PATH: install ocrmypdf",
                          path=str(path))
    return _ocr(path, sha256, settings, pages=None)


def _ocr(path: Path, sha256: str, settings: ExtractSettings, *, pages: list[int] | None) -> Document:
    """Run ocrmypdf on ``path`` and read the result: every page (``pages=None``, a scan), or only
    the pages without a text layer, leaving the others' own text as it is (``--skip-text``)."""
    ocrmypdf = shutil.which("ocrmypdf")
    assert ocrmypdf is not None
    how = ["--force-ocr"] if pages is None else ["--skip-text"]
    with tempfile.TemporaryDirectory(prefix="policylens-ocr-") as tmp:
        target = Path(tmp) / path.name  # same name, so a title taken from the file stem stays right
        try:
            subprocess.run([ocrmypdf, *how, "--quiet", str(path), str(target)],
                           check=True, capture_output=True, timeout=_OCR_TIMEOUT)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise NoTextLayer(f"OCR failed ({exc})", path=str(path)) from None
        document = read_pdf(target, sha256, dataclasses.replace(settings, ocr=False))
    done = "ocrmypdf" if pages is None else f"ocrmypdf on pages {page_ranges(pages)}"
    return Document(source=str(path), sha256=sha256, title=document.title, n_pages=document.n_pages,
                    blocks=document.blocks, metadata={**document.metadata, "ocr": done},
                    quality=document.quality)

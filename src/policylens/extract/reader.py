"""``extract(path)``: any supported file → ``Document``, choosing the reader by content."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policylens.errors import EmptyFile, ExtractionError, PolicylensError, UnsupportedFileType
from policylens.extract.document import Document
from policylens.extract.settings import ExtractSettings

PDF_SUFFIXES = (".pdf",)
TEXT_SUFFIXES = (".txt", ".text")
MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
SUFFIXES: tuple[str, ...] = PDF_SUFFIXES + TEXT_SUFFIXES + MARKDOWN_SUFFIXES + HTML_SUFFIXES
SNIFF_BYTES = 1024  # how much of the head ``sniff`` looks at
STALL_ENV = "POLICYLENS_TEST_STALL"  # test hook: a document holding this text stalls (see _test_stall)


def sniff(head: bytes) -> str | None:
    """What the first bytes say the file is: ``pdf``, ``html``, ``binary`` or ``None`` (text).

    The one content sniffer: extraction and the corpus fetcher both use it.
    """
    if b"%PDF-" in head[:SNIFF_BYTES]:
        return "pdf"
    lowered = head[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml")) \
            or b"<html" in lowered[:300]:
        return "html"
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")) \
            or b"\x00" in head[:SNIFF_BYTES]:
        return "binary"
    return None


def extract(path: str | Path, settings: ExtractSettings | Mapping[str, Any] | None = None, *,
            password: str | None = None) -> Document:
    """Read one PDF, text, Markdown or HTML file into a clean ``Document``.

    ``password`` (or ``settings.password``) opens encrypted PDFs. Raises an
    ``ExtractionError`` for unreadable input (a missing file, a read error) or one of
    its subclasses: ``UnsupportedFileType``, ``EmptyFile``, ``CorruptFile``,
    ``EncryptedPDF``, ``NoTextLayer``.
    """
    resolved = ExtractSettings.resolve(settings)
    if password is not None:
        resolved = dataclasses.replace(resolved, password=password)
    path = Path(path)
    if path.is_dir():
        raise UnsupportedFileType("is a folder, not a document", path=str(path))
    if path.exists() and not path.is_file():
        # A pipe would block the read forever and /dev/zero would fill memory.
        raise UnsupportedFileType("not a regular file (a pipe, socket or device)", path=str(path))
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractionError(f"cannot read the file: {exc.strerror or exc}", path=str(path)) from None
    if not data.strip():
        raise EmptyFile("the file is empty", path=str(path))
    _test_stall(data)
    kind = sniff(data[:SNIFF_BYTES])
    sha256 = hashlib.sha256(data).hexdigest()
    if suffix in PDF_SUFFIXES or kind == "pdf":
        if kind != "pdf":
            found = {"html": "an HTML page", "binary": "another binary format"}.get(kind or "", "text")
            raise UnsupportedFileType(f"not a PDF: the file holds {found} (no %PDF header)", path=str(path))
        del data  # the PDF reader streams from the file; do not keep a second copy alive
        from policylens.extract.pdf import read_pdf

        return read_pdf(path, sha256, resolved)
    if kind == "binary":
        if suffix in TEXT_SUFFIXES + MARKDOWN_SUFFIXES + HTML_SUFFIXES:
            raise UnsupportedFileType(f"binary content in a {suffix} file (not text)", path=str(path))
        raise UnsupportedFileType(f"unsupported file type {suffix or '(no suffix)'}: use PDF, .txt, .md "
                                  "or .html", path=str(path))
    if suffix in HTML_SUFFIXES or kind == "html":
        from policylens.extract.html import read_html

        return read_html(path, data, sha256)
    if suffix in MARKDOWN_SUFFIXES:
        from policylens.extract.markdown import read_markdown

        return read_markdown(path, data, sha256)
    if suffix in TEXT_SUFFIXES:
        from policylens.extract.text import read_text

        return read_text(path, data, sha256)
    raise UnsupportedFileType(f"unsupported file type {suffix or '(no suffix)'}: use PDF, .txt, .md or .html",
                              path=str(path))


def extract_bytes(data: bytes, settings: ExtractSettings | Mapping[str, Any] | None = None, *,
                  name: str = "<stdin>", password: str | None = None) -> Document:
    """``extract`` for a document given as bytes (``policylens extract -`` reads stdin).

    PDF and HTML are recognised by their content; anything else is read as plain
    text. ``name`` stands for the file in the document's ``source`` and in errors.
    """
    kind = sniff(data[:SNIFF_BYTES])
    suffix = {"pdf": ".pdf", "html": ".html"}.get(kind or "", ".txt")
    # the PDF reader streams from a file, and every reader is chosen by suffix
    with tempfile.TemporaryDirectory(prefix="policylens-stdin-") as folder:
        path = Path(folder) / f"stdin{suffix}"
        path.write_bytes(data)
        try:
            document = extract(path, settings, password=password)
        except PolicylensError as exc:
            exc.path = name  # not the temporary file's name
            raise
    return dataclasses.replace(document, source=name)


def _test_stall(data: bytes) -> None:
    """Test hook (``POLICYLENS_TEST_STALL=TEXT``): a document holding ``TEXT`` never finishes.

    It stands for a parser stuck in a loop, so tests can check that the per-document
    time limit stops it and the run goes on. It only sleeps: it cannot change output.
    """
    marker = os.environ.get(STALL_ENV)
    if marker and marker.encode() in data:
        while True:
            time.sleep(1)


__all__ = ["SUFFIXES", "ExtractionError", "extract", "extract_bytes", "sniff"]

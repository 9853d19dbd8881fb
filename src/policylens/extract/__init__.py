"""The extraction stage: PDF, text, Markdown and HTML files → clean ``Document``\\ s.

    >>> from policylens.extract import ExtractSettings
    >>> ExtractSettings.resolve({"pdf_engine": "pdfium"}).pdf_engine
    'pdfium'
"""

from __future__ import annotations

from policylens.extract.document import Block, Document, Quality
from policylens.extract.reader import SUFFIXES, extract, extract_bytes
from policylens.extract.render import FORMATS, render
from policylens.extract.settings import ExtractSettings

__all__ = ["FORMATS", "SUFFIXES", "Block", "Document", "ExtractSettings", "Quality", "extract",
           "extract_bytes", "render"]

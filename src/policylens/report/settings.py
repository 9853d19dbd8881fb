"""How much of each document the HTML report shows: one validated settings object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from policylens.errors import UsageError
from policylens.settings import resolve_settings


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """Caps that keep a report of many long documents readable and small.

    Governance sentences (centralized / sector-specific) are listed up to
    ``max_governance`` per document and neutral ones up to ``max_neutral``
    (collapsed); the page says how many were left out. Sentences longer than
    ``max_chars`` are cut. The first document's section starts open when the report
    has at most ``open_documents`` documents.

    Whatever the caps, the sentences of all documents together take at most
    ``sentence_bytes`` of the file (evidence first, then governance, then neutral
    sentences, shared out evenly), so 1,000 documents still make a light page. The
    dot-and-whisker chart of every document and the facet heat maps are drawn up to
    ``max_chart_documents`` documents (past that the overview's histogram and the
    table carry the ranking). The document table shows ``page_size`` rows a page.
    """

    max_governance: int = 400
    max_neutral: int = 150
    max_chars: int = 1500
    open_documents: int = 3
    sentence_bytes: int = 5_000_000
    max_chart_documents: int = 60
    page_size: int = 50

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise UsageError(f"report setting {f.name} must be a whole number >= 0, not {value!r}")
        if self.page_size < 1:
            raise UsageError(f"report setting page_size must be at least 1, not {self.page_size}")
        if self.max_chars < 80:
            raise UsageError(f"report setting max_chars must be at least 80, not {self.max_chars}")

    @classmethod
    def resolve(cls, value: ReportSettings | Mapping[str, Any] | None) -> ReportSettings:
        """Accept ``None`` (defaults), a mapping of overrides or an instance."""
        return resolve_settings(cls, value, what="report")

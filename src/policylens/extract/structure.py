"""Legal and document structure: which blocks are headings or list items, and sections.

Shared by the PDF path and the plain-text/Markdown/HTML readers so every
source yields the same kinds of blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from policylens.extract.document import Block, BlockKind

# "Article 5", "CHAPTER III", "Section 2.1", "§ 12", "Annex IV", "Title II", "Part 3"
LEGAL_HEADING = re.compile(
    r"^(?:(?:title|chapter|part|section|article|annex|schedule|subpart|division|rule)\s+"
    r"(?:[0-9]+[a-z]?(?:\.[0-9]+)*|[ivxlcdm]+)\b|§+\s*[0-9]+[a-z]?\b)",
    re.IGNORECASE,
)
# Only the label: "Article 5" with no title after it (the title follows as its own line).
LEGAL_LABEL_ONLY = re.compile(LEGAL_HEADING.pattern + r"\.?$", re.IGNORECASE)
# "1.", "12)", "(a)", "a)", "(iv)", "(1)", bullets and dashes.
# Letters are lowercase ("(a)", "b)") or a single capital ("(A)"), so "(EU) No 2019/881" is no item.
LIST_MARKER = re.compile(
    r"^(?:\(?(?:[a-z]{1,2}|[A-Z])\)|\((?:[ivxlc]{1,6}|[IVXLC]{1,6}|\d{1,3})\)|"
    r"(?:[ivxlc]{1,6}|[IVXLC]{1,6}|\d{1,3})[.)](?!\d)|[•▪●◦‣∙·○■□➢✓\-–—*])(?:\s|$)"
)
# "2 Scope", "3.1 Definitions", "4. Governance": numbered headings (judged by length and font).
NUMBERED_HEADING = re.compile(r"^\d{1,2}(?:\.\d{1,2}){0,3}\.?\s+[A-Z]")
_TERMINAL = (".", ";", ",", ":")


@dataclass(slots=True)
class RawBlock:
    """A block before its final kind is settled (mutable while assembling)."""

    page: int | None
    kind: BlockKind
    text: str
    size: float = 0.0
    bold: bool = False


def words(text: str) -> int:
    return len(text.split())


def looks_like_heading_text(text: str, *, emphasised: bool) -> bool:
    """Short legal labels are headings; other short lines only when set in a larger or bold font."""
    n = words(text)
    if LEGAL_HEADING.match(text) and n <= 14 and not text.endswith((";", ",")):
        return True
    if not emphasised or n > 20 or not text[:1].isalnum():
        return False
    return not text.endswith(_TERMINAL) or (bool(NUMBERED_HEADING.match(text)) and n <= 12)


def classify_text(text: str, *, emphasised: bool = False) -> BlockKind:
    """The kind of a block judged from its text (and whether its font stands out)."""
    if looks_like_heading_text(text, emphasised=emphasised):
        return "heading"
    if LIST_MARKER.match(text):
        return "list_item"
    return "paragraph"


def merge_label_headings(blocks: list[RawBlock]) -> list[RawBlock]:
    """Join "Article 5" with the short title line after it: "Article 5 Prohibited AI practices"."""
    out: list[RawBlock] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if (block.kind == "heading" and LEGAL_LABEL_ONLY.match(block.text) and nxt is not None
                and nxt.kind in ("heading", "paragraph") and words(nxt.text) <= 14
                and nxt.text[:1].isupper() and not nxt.text.endswith((".", ";", ","))
                and not LEGAL_HEADING.match(nxt.text)):
            out.append(RawBlock(block.page, "heading", f"{block.text.rstrip('.')} {nxt.text}",
                                block.size, block.bold))
            i += 2
            continue
        out.append(block)
        i += 1
    return out


def with_sections(blocks: Iterable[RawBlock]) -> tuple[Block, ...]:
    """Final blocks, each carrying the nearest heading at or above it as ``section``."""
    section: str | None = None
    out: list[Block] = []
    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        if block.kind == "heading":
            section = text
        out.append(Block(page=block.page, kind=block.kind, text=text, section=section))
    return tuple(out)

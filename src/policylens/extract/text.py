"""Plain text → ``Document``, with the same block model as PDFs, and what every text reader shares.

Markdown (``markdown.py``) and HTML (``html.py``) build their blocks their own way
and finish them here (``decode``, ``make_document``).
"""

from __future__ import annotations

import re
from pathlib import Path

from policylens.errors import EmptyFile
from policylens.extract.document import Document
from policylens.extract.hyphens import Hyphenation, join_lines
from policylens.extract.quality import assess
from policylens.extract.structure import (
    LEGAL_HEADING,
    LIST_MARKER,
    RawBlock,
    classify_text,
    merge_label_headings,
    with_sections,
    words,
)
from policylens.extract.text_title import text_title

_BLANK = re.compile(r"\n\s*\n")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, which accepts any byte."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def make_document(path: Path, sha256: str, blocks: list[RawBlock], title: str | None,
                  metadata: dict[str, str]) -> Document:
    """The finished ``Document``: label headings merged, sections set, quality assessed."""
    final = with_sections(merge_label_headings(blocks))
    if not final:
        raise EmptyFile("the file has no text", path=str(path))
    if not title:
        first = final[0]
        title = first.text if first.kind == "heading" and len(first.text) <= 200 else path.stem
    text = "\n".join(b.text for b in final)
    return Document(source=str(path), sha256=sha256, title=title, n_pages=0, blocks=final,
                    metadata=metadata, quality=assess(text, n_pages=0))


# --- plain text -------------------------------------------------------------------


def read_text(path: Path, data: bytes, sha256: str) -> Document:
    """Paragraphs are separated by blank lines; list markers and legal labels start new blocks."""
    text = decode(data)
    chunks = [c for c in _BLANK.split(text) if c.strip()]
    if len(chunks) == 1 and text.count("\n") > 3:
        chunks = [line for line in text.split("\n") if line.strip()]  # one paragraph per line
    hyphenation = Hyphenation()
    hyphenation.add_lines(line.strip() for line in text.split("\n"))
    blocks: list[RawBlock] = []
    for chunk in chunks:
        for group in _split_chunk([ln.strip() for ln in chunk.split("\n") if ln.strip()]):
            joined = join_lines(group, hyphenation)
            emphasised = len(group) == 1 and _standalone_title(joined)
            blocks.append(RawBlock(None, classify_text(joined, emphasised=emphasised), joined))
    # a text without a single wordy line keeps its file name rather than a heading such as "A BILL"
    return make_document(path, sha256, blocks, text_title(text) or path.stem, {})


def _split_chunk(lines: list[str]) -> list[list[str]]:
    groups: list[list[str]] = []
    for line in lines:
        starts = LIST_MARKER.match(line) or (LEGAL_HEADING.match(line) and words(line) <= 14)
        if groups and not starts:
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def _standalone_title(text: str) -> bool:
    """A lone short line such as "Definitions" or "PART TWO": a heading in plain text."""
    return (words(text) <= 12 and text[:1].isupper() and not text.endswith((".", ",", ";", ":"))
            and not LIST_MARKER.match(text))

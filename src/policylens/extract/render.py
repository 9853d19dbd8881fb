"""A ``Document`` as text, Markdown or JSON (the ``--format`` choices)."""

from __future__ import annotations

import json
import re
from typing import Literal

from policylens.errors import UsageError
from policylens.extract.document import Block, Document

OutputFormat = Literal["text", "markdown", "json"]
FORMATS: tuple[OutputFormat, ...] = ("text", "markdown", "json")
SUFFIX = {"text": ".txt", "markdown": ".md", "json": ".json"}
_TOP_LEVEL = re.compile(r"^(?:title|part|chapter|annex|schedule)\b", re.IGNORECASE)


def render(document: Document, fmt: str) -> str:
    """The document in ``fmt`` (``text``, ``markdown`` or ``json``), ending with a newline."""
    if fmt == "text":
        return document.text + "\n"
    if fmt == "json":
        return json.dumps(document.to_dict(), ensure_ascii=False, indent=2) + "\n"
    if fmt == "markdown":
        return to_markdown(document)
    raise UsageError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def to_markdown(document: Document) -> str:
    """Headings as ``#``/``##`` (Title/Part/Chapter/Annex at the top level), items as ``-``,
    footnotes collected at the end."""
    parts = [f"# {document.title}"]
    notes: list[Block] = []
    for block in document.blocks:
        if block.kind == "footnote":
            notes.append(block)
        elif block.kind == "heading":
            level = "##" if _TOP_LEVEL.match(block.text) else "###"
            parts.append(f"{level} {block.text}")
        elif block.kind == "list_item":
            parts.append(f"- {block.text}")
        elif block.kind == "table":
            parts.append("\n".join(f"    {row}" for row in block.text.split("\n")))
        else:
            parts.append(block.text)
    if notes:
        parts.append("---")
        parts.append("## Footnotes")
        parts.extend(f"- {note.text}" if note.page is None else f"- (p. {note.page}) {note.text}"
                     for note in notes)
    return "\n\n".join(parts) + "\n"

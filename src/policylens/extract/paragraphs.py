"""PDF lines in reading order → blocks: paragraphs, headings, list items, footnotes.

Lines join into a paragraph until something says a new block starts: a larger
vertical gap than the document's usual line spacing, a change of font size or
weight, a list marker or legal label at the line start after a finished line, a
first-line indent, or a short last line ending a sentence. A paragraph carries
on across a column or page break unless the previous line ended a sentence.
Footnotes are the small-font lines below a page's last body line when the
first of them starts with a note marker.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from policylens.extract.hyphens import Hyphenation, join_lines
from policylens.extract.lines import Line
from policylens.extract.structure import (
    LEGAL_HEADING,
    LIST_MARKER,
    RawBlock,
    classify_text,
    merge_label_headings,
)

_SENTENCE_END = (".", "!", "?", ":", ";", ".”", ".\"", ".)")
_NOTE_MARKER = re.compile(r"^(?:\(?\d{1,3}\)?|\[\d{1,3}\]|[*†‡§]|[¹²³⁴⁵⁶⁷⁸⁹⁰]+)(?:\s|[A-Z]|$)")
_SMALL = 0.93  # a font below 93% of the body size counts as small (notes, captions)


@dataclass(frozen=True, slots=True)
class PageLayout:
    number: int
    height: float
    lines: Sequence[Line]  # reading order, running lines already removed


def body_size(pages: Sequence[PageLayout]) -> float:
    """The font size carrying most characters."""
    # Exact sizes first (a document has few): rounding every line is the cost. The rounded
    # sizes still enter ``weight`` in the order lines first show them, so ties go the same way.
    exact: dict[float, int] = {}
    for page in pages:
        for line in page.lines:
            if not line.table:
                exact[line.size] = exact.get(line.size, 0) + len(line.text)
    weight: Counter[float] = Counter()
    for value, n in exact.items():
        weight[round(value * 2) / 2] += n
    return weight.most_common(1)[0][0] if weight else 10.0


def assemble(pages: Sequence[PageLayout], *, repair_hyphens: bool = True,
             separate_footnotes: bool = True) -> tuple[list[RawBlock], Hyphenation]:
    """All blocks of the document in reading order (footnotes after their page's text)."""
    size = body_size(pages)
    hyphenation = Hyphenation()
    hyphenation.add_pages([_line_text(line) for line in page.lines if not line.table] for page in pages)
    helper = hyphenation if repair_hyphens else None
    gap = _normal_gap(pages, size)
    all_bold = _mostly_bold(pages)

    body: list[RawBlock] = []
    notes: list[RawBlock] = []
    current: list[Line] = []
    prev: Line | None = None
    edges: dict[tuple[int, int], float] = {}

    def close() -> None:
        if current:
            body.append(_block(current, size, helper, all_bold))
            current.clear()

    for page in pages:
        lines = list(page.lines)
        note_lines = _footnote_lines(lines, size, page.height) if separate_footnotes else []
        if note_lines:
            ids = {id(line) for line in note_lines}
            lines = [line for line in lines if id(line) not in ids]
            notes.extend(_footnotes(note_lines, helper))
        for column in {line.column for line in lines}:
            edges[(page.number, column)] = _right_edge(lines, column)
        for line in lines:
            if line.table:
                close()
                body.append(RawBlock(line.page, "table", line.text, line.size, False))
                prev = None
                continue
            if prev is not None and current and _starts_block(prev, line, gap, edges, all_bold):
                close()
            current.append(line)
            prev = line
    close()
    blocks = merge_label_headings(body)
    return _place_notes(blocks, notes), hyphenation


def _line_text(line: Line) -> str:
    return f"{line.text}-" if line.hyphen else line.text


def _normal_gap(pages: Sequence[PageLayout], size: float) -> float:
    gaps: list[float] = []
    for page in pages:
        for a, b in zip(page.lines, page.lines[1:], strict=False):
            if (a.column == b.column and abs(a.size - size) < 0.5 and abs(b.size - size) < 0.5
                    and not (a.table or b.table)):
                g = b.top - a.bottom
                if -size < g < 2 * size:
                    gaps.append(g)
    gaps.sort()
    return gaps[len(gaps) // 2] if gaps else 0.2 * size


def _mostly_bold(pages: Sequence[PageLayout]) -> bool:
    bold = total = 0
    for page in pages:
        for line in page.lines:
            total += len(line.text)
            bold += len(line.text) if line.bold else 0
    return total > 0 and bold > 0.5 * total


def _right_edge(lines: Sequence[Line], column: int) -> float:
    xs = [line.x1 for line in lines if line.column == column and not line.table]
    return max(xs) if xs else 0.0


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith(_SENTENCE_END)


def _starts_block(prev: Line, line: Line, gap: float, edges: dict[tuple[int, int], float],
                  all_bold: bool) -> bool:
    # Each test is computed only when reached (the regexes last): this runs for every line.
    size = max(line.size, 1.0)
    finished = not prev.hyphen and _ends_sentence(prev.text)
    moved = line.page != prev.page or line.column != prev.column or line.top < prev.top - 0.5 * size
    if moved:
        return (finished or LIST_MARKER.match(line.text) is not None
                or LEGAL_HEADING.match(line.text) is not None or abs(line.size - prev.size) > 0.12 * size)
    if abs(line.size - prev.size) > 0.12 * size:
        return True
    short_prev = prev.x1 < edges.get((prev.page, prev.column), prev.x1) - 4 * size
    # A bold run-in lead ("Section 1. Purpose. Artificial ...") fills its line: only a
    # short or finished bold line is a heading of its own.
    if not all_bold and line.bold != prev.bold and (short_prev or finished):
        return True
    if line.top - prev.bottom > gap + 0.45 * size:
        return True
    if ((finished or short_prev or prev.text.endswith(":"))
            and (LIST_MARKER.match(line.text) is not None or LEGAL_HEADING.match(line.text) is not None)):
        return True
    if finished and short_prev:
        return True
    return finished and line.x0 > prev.x0 + 1.2 * size


def _block(lines: Sequence[Line], size: float, hyphenation: Hyphenation | None, all_bold: bool) -> RawBlock:
    text = join_lines([_line_text(line) for line in lines], hyphenation)
    first = lines[0]
    emphasised = first.size >= 1.12 * size or (first.bold and not all_bold)
    return RawBlock(first.page, classify_text(text, emphasised=emphasised), text, first.size, first.bold)


def _footnote_lines(lines: Sequence[Line], size: float, height: float) -> list[Line]:
    """Small-font lines below the page's last body line, when the first starts with a note marker."""
    body_bottom = max((ln.bottom for ln in lines if ln.size >= _SMALL * size or ln.table), default=0.0)
    tail = [ln for ln in lines  # already in reading order (rows, left to right)
            if ln.size < _SMALL * size and ln.top >= body_bottom - 1 and ln.top > 0.5 * height
            and not ln.table]
    if not tail or not (tail[0].marker_small or _NOTE_MARKER.match(tail[0].text)):
        return []
    return tail


def _footnotes(lines: Sequence[Line], hyphenation: Hyphenation | None) -> list[RawBlock]:
    notes: list[RawBlock] = []
    current: list[Line] = []
    for line in lines:
        if current and (line.marker_small or _NOTE_MARKER.match(line.text)):
            notes.append(_note(current, hyphenation))
            current = []
        current.append(line)
    if current:
        notes.append(_note(current, hyphenation))
    return notes


def _note(lines: Sequence[Line], hyphenation: Hyphenation | None) -> RawBlock:
    text = join_lines([_line_text(line) for line in lines], hyphenation)
    return RawBlock(lines[0].page, "footnote", text, lines[0].size, lines[0].bold)


def _place_notes(blocks: list[RawBlock], notes: list[RawBlock]) -> list[RawBlock]:
    """Put each page's footnotes after the last body block that starts on or before that page."""
    if not notes:
        return blocks
    out: list[RawBlock] = []
    pending = list(notes)
    for i, block in enumerate(blocks):
        out.append(block)
        nxt = blocks[i + 1].page if i + 1 < len(blocks) else None
        while pending and (nxt is None or (pending[0].page or 0) < (nxt or 0)):
            out.append(pending.pop(0))
    out.extend(pending)
    return out

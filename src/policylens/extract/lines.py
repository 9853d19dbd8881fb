"""The reader-neutral page model: positioned words grouped into line fragments.

Both PDF readers (pypdfium2 and pdfplumber) produce ``PageLines``; everything
after them (columns, running headers, paragraphs) works on this model only.
Coordinates are PDF points measured from the top-left of the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# A gap wider than this many font sizes between two words on one baseline is a
# column gutter or a table cell boundary, not a word space (justified text
# stretches spaces to about half an em, rarely more).
GUTTER_EMS = 1.5
# What a footnote reference looks like once pulled out of its line: "7", "(7)", "12,13", "4-6",
# "11+" (the European Parliament's mark for a reference still to be completed).
NOTE_REFERENCE = re.compile(r"^[(\[]?\d{1,3}(?:[,\u2013-]\d{1,3})*\+?[)\]]?$")


@dataclass(slots=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool = False


@dataclass(slots=True)
class Line:
    """One line fragment: words on one baseline with no gutter-sized gap inside."""

    page: int  # 1-based
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # font size of most of the line's characters
    text: str
    bold: bool = False
    hyphen: bool = False  # the reader saw a line-end hyphen (pdfium's soft-hyphen marker)
    marker_small: bool = False  # starts with a smaller, raised number (a footnote marker)
    column: int = 0  # set by layout: 0 single/left, 1 right, -1 spans the gutter
    table: bool = False  # a whole ruled table: ``text`` holds its rows, cells joined by " | "

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(slots=True)
class PageLines:
    number: int  # 1-based
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    engine: str = "pdfium"
    n_chars: int = 0
    blank: bool = False  # nothing drawn at all (no text, no images): not a missing text layer
    backward_jumps: int = 0  # lines that start well above the previous one (stream order)


def fragments(words: list[Word], page: int, *, hyphen: bool = False) -> list[Line]:
    """Split one reader line into fragments at gutter-sized gaps or baseline jumps.

    This runs once per line of every page, so it is written as plain loops over
    local variables (it used to be a third of the extraction time).
    """
    out: list[Line] = []
    start = 0
    prev = words[0]
    for i in range(1, len(words)):
        word = words[i]
        if word.size < 0.85 * prev.size and is_reference_word(prev, word):
            # A raised note reference after a word ("Regulation 1 and"): drop it and start over.
            return fragments(words[:i] + words[i + 1:], page, hyphen=hyphen)
        size = prev.size if prev.size > word.size else word.size
        if size < 1.0:
            size = 1.0
        gap = word.x0 - prev.x1
        if gap > GUTTER_EMS * size or gap < -size or abs(word.bottom - prev.bottom) > 0.8 * size:
            out.append(_line(words[start:i], page, hyphen=False))
            start = i
        prev = word
    out.append(_line(words[start:] if start else words, page, hyphen=hyphen))
    return out


def is_reference_word(prev: Word, word: Word) -> bool:
    """Is ``word`` a footnote reference ("7", "12,13") set small and raised right after ``prev``?"""
    size = prev.size
    # "(" + "1" + ")" is how the EU Official Journal numbers its notes: keep those whole.
    return (word.size < 0.85 * size and word.bottom < prev.bottom - 0.1 * size
            and -0.2 * size <= word.x0 - prev.x1 < 0.6 * size and not prev.text.endswith(("(", "["))
            and NOTE_REFERENCE.match(word.text) is not None)


def _line(words: list[Word], page: int, *, hyphen: bool) -> Line:
    first = words[0]
    x0, x1, top, bottom = first.x0, first.x1, first.top, first.bottom
    size = first.size
    uniform = True
    bold_chars = total_chars = 0
    for w in words:
        if w.x0 < x0:
            x0 = w.x0
        if w.x1 > x1:
            x1 = w.x1
        if w.top < top:
            top = w.top
        if w.bottom > bottom:
            bottom = w.bottom
        n = len(w.text)
        total_chars += n
        if w.bold:
            bold_chars += n
        if uniform and w.size != size:
            uniform = False
    size = round(size, 1) if uniform else _dominant_size(words)
    marker_small = (len(words) > 1 and len(first.text) <= 3 and first.text.isdigit()
                    and first.size < 0.85 * size and first.bottom < words[1].bottom - 0.15 * size)
    return Line(page, x0, x1, top, bottom, size, " ".join([w.text for w in words]),
                bold_chars * 2 > total_chars, hyphen, marker_small)


def _dominant_size(words: Iterable[Word]) -> float:
    """The size (to 0.1 pt) carrying most characters; ties go to the larger size."""
    # Exact sizes first: a line's words share a few sizes, and rounding each word is the cost.
    exact: dict[float, int] = {}
    for w in words:
        exact[w.size] = exact.get(w.size, 0) + len(w.text)
    weight: dict[float, int] = {}
    for value, n in exact.items():
        key = round(value, 1)
        weight[key] = weight.get(key, 0) + n
    if not weight:
        return 0.0
    # The largest size among those carrying the most characters (no key function: this runs for
    # most lines of the EU Official Journal, whose words' sizes differ in the last decimals).
    most = max(weight.values())
    return max([size for size, n in weight.items() if n == most])

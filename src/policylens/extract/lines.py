"""The reader-neutral page model: positioned words grouped into line fragments.

Both PDF readers (pypdfium2 and pdfplumber) produce ``PageLines``; everything
after them (columns, running headers, paragraphs) works on this model only.
Coordinates are PDF points measured from the top-left of the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# A gap wider than this many font sizes between two words on one baseline is a
# column gutter or a table cell boundary, not a word space (justified text
# stretches spaces to about half an em, rarely more).
GUTTER_EMS = 1.5


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
    backward_jumps: int = 0  # lines that start well above the previous one (stream order)


def fragments(words: list[Word], page: int, *, hyphen: bool = False) -> list[Line]:
    """Split one reader line into fragments at gutter-sized gaps or baseline jumps."""
    out: list[Line] = []
    group: list[Word] = []
    for word in words:
        if group:
            prev = group[-1]
            size = max(prev.size, word.size, 1.0)
            gap = word.x0 - prev.x1
            jump = abs(word.bottom - prev.bottom)
            if gap > GUTTER_EMS * size or gap < -size or jump > 0.8 * size:
                out.append(_line(group, page, hyphen=False))
                group = []
        group.append(word)
    if group:
        out.append(_line(group, page, hyphen=hyphen))
    return out


def _line(words: list[Word], page: int, *, hyphen: bool) -> Line:
    size = _dominant_size(words)
    first = words[0]
    marker_small = (len(words) > 1 and first.text.isdigit() and len(first.text) <= 3
                    and first.size < 0.85 * size and first.bottom < words[1].bottom - 0.15 * size)
    return Line(
        page=page,
        x0=min(w.x0 for w in words),
        x1=max(w.x1 for w in words),
        top=min(w.top for w in words),
        bottom=max(w.bottom for w in words),
        size=size,
        text=" ".join(w.text for w in words),
        bold=sum(len(w.text) for w in words if w.bold) * 2 > sum(len(w.text) for w in words),
        hyphen=hyphen,
        marker_small=marker_small,
    )


def _dominant_size(words: Iterable[Word]) -> float:
    weight: dict[float, int] = {}
    for w in words:
        key = round(w.size, 1)
        weight[key] = weight.get(key, 0) + len(w.text)
    return max(weight, key=lambda k: (weight[k], k)) if weight else 0.0

"""A PDF's title: its metadata when meaningful, else what page 1 shows as the title.

Page 1 is cut into blocks (consecutive lines of one font size and weight, one
below the other), and blocks that are not titles are set aside: banners in the
top strip ("Presidential Documents", "European Parliament"), dates, document
codes ("C(2025) 5053 final", "M-24-10"), labels ("FROM:"), language tags and
anything in the bottom strip. A memo's ``SUBJECT:`` line wins outright. Of the
rest, the blocks set in the largest (bold counts a little larger) font compete,
and the one with the most words wins: the EU Commission sets "COMMUNICATION FROM
THE COMMISSION" and the guideline's real title in the same bold size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from policylens.extract.hyphens import Hyphenation, join_lines
from policylens.extract.lines import Line

_PLACEHOLDER_TITLES = {"untitled", "title", "document", "presentation", "slide 1", "no title", "word"}
_SUBJECT = re.compile(r"^(?:subject|re)\s*:\s*", re.IGNORECASE)
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DATE = re.compile(
    rf"^(?:[A-Z][a-z]+,\s*)?(?:\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}|(?:\d{{1,2}}\s+)?(?:{_MONTHS})"
    rf"(?:\s+\d{{1,2}})?,?\s+\d{{4}})\.?$", re.IGNORECASE)
_BANNER_ZONE = 0.11  # share of the page height at the top where banners and running heads sit
_FOOT_ZONE = 0.12
_BOLD_BONUS = 1.08
_MAX_WORDS = 40


@dataclass(slots=True)
class _Block:
    lines: list[Line]
    size: float
    bold: bool

    @property
    def top(self) -> float:
        return self.lines[0].top


def choose_title(meta_title: str, first_page: Sequence[Line] | None, page_height: float, body: float,
                 path: Path, hyphenation: Hyphenation | None = None) -> str:
    """Metadata title if meaningful, else the title shown on page 1, else the file stem.

    ``first_page`` is page 1's lines in reading order (``None`` when page 1 has no text).
    """
    if meaningful_title(meta_title, path):
        return " ".join(meta_title.split())
    if first_page:
        title = page_title(first_page, page_height, body, hyphenation)
        if title:
            return title
    return path.stem


def meaningful_title(title: str, path: Path) -> bool:
    text = title.strip()
    letters = sum(ch.isalpha() for ch in text)
    if letters < 4 or text.lower() in _PLACEHOLDER_TITLES:
        return False
    lowered = text.lower()
    if lowered.startswith("microsoft word") or lowered.endswith((".doc", ".docx", ".pdf", ".indd", ".rtf")):
        return False
    return lowered != path.stem.lower()


def page_title(lines: Sequence[Line], page_height: float, body: float,
               hyphenation: Hyphenation | None = None) -> str | None:
    """The title shown on a first page, or ``None`` when nothing there looks like one."""
    lines = [line for line in lines if not line.table]
    subject = _subject_line(lines, hyphenation)
    if subject:
        return subject
    candidates = [b for b in _blocks(lines) if _could_be_title(b, page_height, body)]
    if not candidates:
        return None
    best = max(_weight(b) for b in candidates)
    finalists = [b for b in candidates if _weight(b) >= 0.93 * best]
    chosen = max(finalists, key=lambda b: (min(len(_text(b, hyphenation).split()), _MAX_WORDS), -b.top))
    return _text(chosen, hyphenation)[:300]


def _weight(block: _Block) -> float:
    return block.size * (_BOLD_BONUS if block.bold else 1.0)


def _blocks(lines: Sequence[Line]) -> list[_Block]:
    """Consecutive lines of one size and weight, each below the last and overlapping it sideways."""
    blocks: list[_Block] = []
    for line in lines:
        if blocks:
            block = blocks[-1]
            last = block.lines[-1]
            below = last.bottom - 0.3 * last.size <= line.top <= last.bottom + 1.0 * max(last.size, line.size)
            overlaps = line.x0 < last.x1 and last.x0 < line.x1
            if (below and overlaps and line.bold == block.bold
                    and abs(line.size - block.size) <= 0.06 * block.size):
                block.lines.append(line)
                continue
        blocks.append(_Block([line], line.size, line.bold))
    for block in blocks:  # "P9_TA(2024)0138" above "Artificial Intelligence Act" is a code, not title
        while len(block.lines) > 1 and not _wordy(block.lines[0].text):
            block.lines.pop(0)
        while len(block.lines) > 1 and not _wordy(block.lines[-1].text):
            block.lines.pop()
    return blocks


def _wordy(text: str) -> bool:
    """Holds a real word (three letters or more, mostly letters) and is not a date."""
    if _DATE.match(text.strip()):
        return False
    return any((n := sum(ch.isalpha() for ch in w)) >= 3 and 2 * n >= len(w) for w in text.split())


def _text(block: _Block, hyphenation: Hyphenation | None) -> str:
    return " ".join(join_lines([f"{ln.text}-" if ln.hyphen else ln.text for ln in block.lines],
                               hyphenation or Hyphenation()).split())


def _could_be_title(block: _Block, page_height: float, body: float) -> bool:
    text = " ".join(line.text for line in block.lines)
    words = text.split()
    if sum(1 for w in words if sum(ch.isalpha() for ch in w) >= 3) < 2 or len(words) > 2 * _MAX_WORDS:
        return False  # a language tag ("EN EN"), a lone number or code, or a whole paragraph
    if block.lines[-1].bottom > (1 - _FOOT_ZONE) * page_height:
        return False
    if block.top < _BANNER_ZONE * page_height and len(words) <= 3:
        return False  # "Presidential Documents", "European Parliament": a publisher's banner
    if text.rstrip().endswith(":") or _DATE.match(text.strip()):
        return False
    if sum(ch.isdigit() for ch in text) > 0.3 * sum(ch.isalnum() for ch in text):
        return False
    # Body-size text only counts when bold (and then only a few lines of it).
    return block.size >= 1.15 * body or (block.bold and len(block.lines) <= 4)


def _subject_line(lines: Sequence[Line], hyphenation: Hyphenation | None) -> str | None:
    """A memo's subject: "SUBJECT: Advancing ..." (maybe as a label plus a fragment on its row,
    maybe wrapped onto the next lines)."""
    for i, line in enumerate(lines):
        match = _SUBJECT.match(line.text)
        if match is None:
            continue
        parts = [line.text[match.end():]] if line.text[match.end():].strip() else []
        last = line
        for nxt in lines[i + 1:i + 6]:
            same_row = abs(nxt.bottom - line.bottom) < 0.4 * line.size and nxt.x0 > line.x1 and not parts
            below = (-0.3 * last.size <= nxt.top - last.bottom < 0.8 * last.size
                     and abs(nxt.size - line.size) < 0.1 * line.size)
            if not (same_row or (parts and below)):
                break
            parts.append(nxt.text)
            last = nxt
        text = " ".join(join_lines(parts, hyphenation or Hyphenation()).split())
        if sum(ch.isalpha() for ch in text) >= 8:
            return text[:300]
    return None

"""Page layout: reading order (columns) and running headers/footers.

Reading order is geometric, not the content stream's: rows top to bottom,
fragments in a row left to right. When a page has a clear gutter (an empty
vertical strip near the middle with substantial text on both sides) it is read
in bands: full-width lines split the page into bands, and each band is read
left column first, then right column.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter

from policylens.extract.lines import GUTTER_EMS, NOTE_REFERENCE, Line, PageLines

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
# A line that is nothing but a page number: "7", "- 7 -", "Page 7 of 40", "7/40", "iv".
_PAGE_NUMBER = re.compile(
    r"^(?:page\s*)?[-–—(\[]?\s*(?:\d{1,4}|[ivxlcdm]{1,6})\s*[-–—)\]]?(?:\s*(?:of|/)\s*\d{1,4})?$",
    re.IGNORECASE,
)
_EMPTY_PARENS = re.compile(r"\s?\(\s?\)")
_ZONE = 0.14  # running headers/footers live in the top/bottom 14% of the page
_EDGE_ROWS = 3  # ... and among the first/last three rows of text
_BOTTOM = attrgetter("bottom")
_X0 = attrgetter("x0")
_SECOND = itemgetter(1)


@dataclass(frozen=True, slots=True)
class PageOrder:
    lines: list[Line]
    two_columns: bool
    unrecognised_columns: bool  # many rows hold several fragments but no gutter was found


def order_page(page: PageLines) -> PageOrder:
    """The page's lines in reading order, with ``Line.column`` set."""
    lines = page.lines
    if not lines:
        return PageOrder([], False, False)
    gutter = find_gutter(lines)
    if gutter is None:
        for line in lines:
            line.column = 0
        rows = _rows(lines)
        # Rows holding two or more wide fragments look like columns read row by row
        # (narrow cells are tables or forms, which rows read correctly).
        area = max(ln.x1 for ln in lines) - min(ln.x0 for ln in lines)
        wide = 0.3 * area
        multi = sum(1 for row in rows if len(row) > 1 and sum(1 for ln in row if ln.x1 - ln.x0 > wide) > 1)
        return PageOrder([line for row in rows for line in row], False,
                         len(rows) >= 8 and multi > 0.3 * len(rows))
    left_end, right_start = gutter
    ordered: list[Line] = []
    left: list[Line] = []
    right: list[Line] = []

    def flush() -> None:
        ordered.extend(line for row in _rows(left) for line in row)
        ordered.extend(line for row in _rows(right) for line in row)
        left.clear()
        right.clear()

    for row in _rows(lines):
        for line in row:
            if line.x1 <= right_start:
                line.column = 0
                left.append(line)
            elif line.x0 >= left_end:
                line.column = 1
                right.append(line)
            else:
                line.column = -1
        spanning = [line for line in row if line.column == -1]
        if spanning:
            flush()
            ordered.extend(spanning)
    flush()
    return PageOrder(ordered, True, False)


def find_gutter(lines: Sequence[Line]) -> tuple[float, float] | None:
    """``(start, end)`` of an empty vertical strip separating two text columns, if any."""
    area_x0 = min(line.x0 for line in lines)
    area_x1 = max(line.x1 for line in lines)
    area = area_x1 - area_x0
    if area < 100 or len(lines) < 8:
        return None
    narrow = [line for line in lines if line.x1 - line.x0 < 0.6 * area and not line.table]
    if len(narrow) < 0.5 * len(lines):
        return None
    cover = bytearray(int(area) + 2)
    for line in narrow:
        a, b = int(line.x0 - area_x0), int(line.x1 - area_x0) + 1
        cover[a:b] = b"\x01" * (b - a)
    best: tuple[int, tuple[float, float]] | None = None
    lo, hi = int(0.25 * area), int(0.75 * area)
    x = lo
    while x < hi:
        if cover[x]:
            x += 1
            continue
        start = x
        while x < len(cover) and not cover[x]:
            x += 1
        if x - start < 6:
            continue
        g0, g1 = area_x0 + start, area_x0 + x
        left = [ln for ln in narrow if ln.x1 <= g0 + 1]
        right = [ln for ln in narrow if ln.x0 >= g1 - 1]
        if len(left) < 4 or len(right) < 4:
            continue
        # Real columns are wide: label/value forms and small tables are not columns.
        if _median_width(left) < 0.25 * area or _median_width(right) < 0.25 * area:
            continue
        score = min(len(left), len(right))
        if best is None or score > best[0]:
            best = (score, (g0, g1))
    return best[1] if best else None


def _median_width(lines: Sequence[Line]) -> float:
    widths = sorted(line.x1 - line.x0 for line in lines)
    return widths[len(widths) // 2]


def _rows(lines: Sequence[Line]) -> list[list[Line]]:
    """Group lines sharing a baseline into rows, top to bottom, each row left to right.

    A line whose vertical extent mostly overlaps the row's joins it, so raised
    superscripts stay on their row. Within a row, fragments closer than a gutter
    are merged back into one line (readers split them only because the baseline
    jumped), and a small raised fragment lying inside another one is dropped: it
    is a footnote reference that the reader pulled out of its line.
    """
    return [_merge_row(row) for row in _group_rows(lines)]


def _group_rows(lines: Sequence[Line]) -> list[list[Line]]:
    """``_rows`` without the merging. Each boundary depends only on two neighbours in
    baseline order, so any run of rows is grouped the same as in the whole page."""
    rows: list[list[Line]] = []
    if not lines:
        return rows
    ordered = sorted(lines, key=_BOTTOM)
    last = ordered[0]
    row = [last]
    rows.append(row)
    for line in ordered[1:]:
        if not (line.table or last.table):  # a table is a row of its own
            bottom, last_bottom = line.bottom, last.bottom
            size = max(last.size, line.size, 1.0)
            if -0.4 * size < bottom - last_bottom < 0.4 * size:
                row.append(line)
                last = line
                continue
            top, last_top = line.top, last.top
            overlap = ((bottom if bottom < last_bottom else last_bottom)
                       - (top if top > last_top else last_top))
            if overlap > 0.6 * min(bottom - top, last_bottom - last_top):
                row.append(line)
                last = line
                continue
        row = [line]
        rows.append(row)
        last = line
    return rows


def _merge_row(row: list[Line]) -> list[Line]:
    """Merge one row's fragments left to right (see ``_rows``) in O(n log n).

    A dense page (tens of thousands of one-character text objects) can make a row
    of that many fragments, so nothing here scans the fragments kept so far: the
    host of a raised reference is found by bisecting a running maximum of their
    right edges, and a merged line's text is gathered in a list and joined once.
    """
    if len(row) == 1:
        return row
    row.sort(key=_X0)
    kept: list[Line] = []
    reach: list[float] = []  # reach[i]: the largest x1 among kept[: i + 1] (non-decreasing)
    parts: list[str] = []  # the text of kept[-1], not yet joined
    length = 0  # len("".join(parts))
    dropped_reference = False  # the next fragment then needs a space: "systems." [5] "As"

    def close_last() -> None:
        if parts:
            kept[-1].text = "".join(parts)

    for line in row:
        # Kept fragments start at or left of ``line`` (sorted by x0, merges keep the left
        # edge), so a host is any of them reaching ``line.x1``: the first is the leftmost.
        at = bisect_left(reach, line.x1 - 1)
        if at < len(kept):
            host = kept[at]
            if line.size < 0.8 * host.size and len(line.text) <= 4:
                if at == len(kept) - 1:
                    close_last()
                host.text = _EMPTY_PARENS.sub("", host.text)  # "( )" left where the marker was
                if at == len(kept) - 1:
                    parts[:] = [host.text]
                    length = len(host.text)
                continue
        if kept:
            prev = kept[-1]
            gap = line.x0 - prev.x1
            if is_note_reference(prev, line):
                dropped_reference = True
                continue
            size = max(prev.size, line.size, 1.0)
            if -0.2 * size <= gap < GUTTER_EMS * size and prev.column == line.column:
                joiner = "" if gap < 0.12 * size and not dropped_reference else " "
                dropped_reference = False
                if (line.marker_small and gap < 0.6 * size and " " in line.text
                        and not prev.text.endswith(("(", "["))):
                    # The reader started a new line at a raised note reference: "Union," + "12 or if".
                    line.text, line.marker_small, joiner = line.text.split(" ", 1)[1], False, " "
                main = prev if length >= len(line.text) else line
                # a note marker is a few characters: a longer text is never one, so never joined here
                short = "".join(parts) if length <= 8 else ""
                # ``text`` holds only the last piece until the row is done: the checks above
                # read only its end
                kept[-1] = Line(page=prev.page, x0=prev.x0, x1=max(prev.x1, line.x1),
                                top=min(prev.top, line.top), bottom=max(prev.bottom, line.bottom),
                                size=main.size, text=line.text, bold=main.bold,
                                hyphen=line.hyphen, marker_small=prev.marker_small or (
                                    short.strip("()").isdigit() and prev.size < 0.85 * line.size),
                                column=prev.column)
                parts.extend((joiner, line.text))
                length += len(joiner) + len(line.text)
                reach[-1] = max(reach[-1], line.x1)
                continue
        close_last()
        kept.append(line)
        reach.append(max(reach[-1], line.x1) if reach else line.x1)
        parts = [line.text]
        length = len(line.text)
    close_last()
    return kept


def is_note_reference(prev: Line, line: Line) -> bool:
    """Is ``line`` a footnote reference ("2", "12,13") set small and raised right after ``prev``?"""
    size = prev.size
    return (len(line.text) <= 8 and NOTE_REFERENCE.match(line.text) is not None
            and line.size < 0.85 * size and line.bottom < prev.bottom - 0.1 * size
            and -0.2 * size <= line.x0 - prev.x1 < 0.6 * size and not prev.text.endswith(("(", "[")))


def running_line_key(text: str) -> str:
    """Normalise a header/footer candidate: digits become ``#`` so page numbers match."""
    return _SPACES.sub(" ", _DIGITS.sub("#", text.strip().lower()))


def is_page_number(text: str) -> bool:
    return bool(_PAGE_NUMBER.match(text.strip()))


def remove_running_lines(pages: Sequence[PageLines]) -> int:
    """Drop running headers/footers and page numbers from ``pages`` in place; return how many.

    A candidate is a line in the top or bottom zone of its page (and among the
    first/last rows). It is a running line when the same normalised text sits at
    about the same height on at least 30% of the pages with text (at least 2), or
    when it is just a page number.
    """
    text_pages = [p for p in pages if p.lines]
    if not text_pages:
        return 0
    groups: dict[str, list[tuple[int, float, Line]]] = defaultdict(list)
    for page in text_pages:
        for line in _edge_lines(page):
            if line.table:
                continue
            centre = (line.top + line.bottom) / 2
            # Measure footers from the page bottom so mixed page sizes still line up.
            pos = centre if centre < page.height / 2 else centre - page.height
            groups[running_line_key(line.text)].append((page.number, pos, line))
    needed = max(2, round(0.3 * len(text_pages)))
    drop: set[int] = set()
    for key, hits in groups.items():
        if is_page_number(key.replace("#", "1")):
            drop.update(id(line) for _, _, line in hits)
            continue
        hits.sort(key=_SECOND)
        # Largest cluster of hits within 6 pt of each other, counted in distinct pages.
        start = 0
        for end in range(len(hits)):
            while hits[end][1] - hits[start][1] > 6:
                start += 1
            cluster = hits[start:end + 1]
            if len({h[0] for h in cluster}) >= needed:
                drop.update(id(h[2]) for h in cluster)
    removed = 0
    for page in text_pages:
        kept = [line for line in page.lines if id(line) not in drop]
        removed += len(page.lines) - len(kept)
        page.lines = kept
    return removed


def _edge_lines(page: PageLines) -> list[Line]:
    """Lines of the top and bottom rows that are set apart from the body by a clear gap.

    Requiring the gap keeps a body line that happens to repeat at the same height
    on several pages (a recurring clause) from being mistaken for a header.
    """
    rows = _group_rows(page.lines)
    if len(rows) < 2:
        return []
    # Only the edge rows are merged: the rest of the page is never looked at here.
    top = _separated([_merge_row(row) for row in rows[:_EDGE_ROWS + 1]], from_top=True)
    bottom = _separated([_merge_row(row) for row in rows[::-1][:_EDGE_ROWS + 1]], from_top=False)
    out: list[Line] = []
    seen: set[int] = set()
    for row in top + bottom:
        for line in row:
            in_zone = line.bottom < _ZONE * page.height or line.top > (1 - _ZONE) * page.height
            if in_zone and id(line) not in seen:
                seen.add(id(line))
                out.append(line)
    return out


def _separated(rows: list[list[Line]], *, from_top: bool) -> list[list[Line]]:
    """The leading rows up to the first gap wider than a normal line break (none if no such gap)."""
    for i in range(min(_EDGE_ROWS, len(rows) - 1)):
        here, nxt = rows[i], rows[i + 1]
        gap = (min(ln.top for ln in nxt) - max(ln.bottom for ln in here) if from_top
               else min(ln.top for ln in here) - max(ln.bottom for ln in nxt))
        size = max(ln.size for ln in here + nxt)
        if gap > max(0.8 * size, 6.0):
            return rows[: i + 1]
    return []

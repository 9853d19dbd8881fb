"""Ruled tables in PDFs: ruling lines read with pdfium, cells found by ``grid.py``.

Letting pdfplumber parse a page costs about a tenth of a second, more than
reading fifteen pages with pdfium, and even importing it costs more than reading
a short PDF, so pages are not handed to it. Instead the ruling lines come from
pdfium's page objects (thin paths, the sides of boxes, the straight segments of
grid paths), and only pages whose rulings form a grid (three or more distinct rows
and columns of lines) go through ``grid.find_grids`` (pdfplumber's ``lines``
table strategy: snap and join the edges, find the cells). The words pdfium read
inside a table's cells become one ``table`` line: one text row per table row,
cells joined by ``" | "``. A "table" with fewer than two filled rows or columns
(a box drawn around a paragraph) is no table: its words stay text.
"""

from __future__ import annotations

import ctypes
import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pypdfium2.raw as raw

from policylens.extract.grid import find_grids
from policylens.extract.lines import Line, Word
from policylens.extract.pdfium_calls import pointer_arg, unchecked

_THIN = 2.5  # points: a path thinner than this is a ruling line
_MIN_RULE = 8.0  # points: shorter strokes are bullets, underlines of a letter, glyph parts
_MAX_EDGES = 600  # more than this is a vector chart or a map, not a table
_MAX_SEGMENTS = 400
_GRID = 3  # distinct horizontal and vertical ruling positions a table needs at least
_SEP = " | "


@dataclass(slots=True)
class TableArea:
    """One table found on a page: its cells (row by row) and the words that fell inside."""

    bbox: tuple[float, float, float, float]  # x0, top, x1, bottom
    rows: list[list[tuple[float, float, float, float] | None]]
    words: list[list[Word]] = field(default_factory=list)  # one list per reader line

    def contains(self, x: float, y: float) -> bool:
        x0, top, x1, bottom = self.bbox
        return x0 <= x <= x1 and top <= y <= bottom


def find_tables(page_handle: Any, height: float) -> list[TableArea]:
    """The ruled tables of an open pdfium page (``[]`` for the vast majority of pages).

    Calls PDFium: the caller holds ``PDFIUM_LOCK`` (``pdfium_reader.read_page`` does).
    """
    edges = _edges(page_handle, height)
    if edges is None:
        return []
    horizontal, vertical = edges
    # Two rows and two columns at least (a grid's rows all hold one entry per distinct left edge).
    return [TableArea(bbox=grid.bbox, rows=grid.rows)
            for grid in find_grids(horizontal, vertical, min_size=2)]


def table_line(area: TableArea, page: int) -> Line | None:
    """The table as one ``Line`` (``table=True``), or ``None`` if it does not hold a real table."""
    words = [w for group in area.words for w in group]
    # Word centres sorted by height, so each cell looks only at the words level with it;
    # a cell's words keep their reading order (their index in ``words``).
    centres = sorted(((w.top + w.bottom) / 2, i, (w.x0 + w.x1) / 2) for i, w in enumerate(words))
    heights = [c[0] for c in centres]
    texts: list[str] = []
    multi_cell_rows = 0
    for row in area.rows:
        cells: list[str] = []
        for cell in row:
            if cell is None:
                continue  # covered by a cell spanning columns
            x0, top, x1, bottom = cell
            level = centres[bisect_left(heights, top):bisect_right(heights, bottom)]
            inside = [words[i].text for i in sorted(i for _, i, cx in level if x0 <= cx <= x1)]
            if inside:  # empty cells are left out: "a |  | b" reads worse than "a | b"
                cells.append(" ".join(inside))
        if cells:
            texts.append(_SEP.join(cells))
            multi_cell_rows += len(cells) >= 2
    # A box around a paragraph, a timeline drawing or a one-column list is not a table.
    if multi_cell_rows < 2:
        return None
    sizes = sorted(w.size for w in words)
    x0, top, x1, bottom = area.bbox
    return Line(page=page, x0=x0, x1=x1, top=top, bottom=bottom, size=sizes[len(sizes) // 2],
                text="\n".join(texts), table=True)


_Edge = tuple[float, float, float]  # horizontal (x0, x1, y); vertical (x, top, bottom)


def _edges(page_handle: Any, height: float) -> tuple[list[_Edge], list[_Edge]] | None:
    """Horizontal and vertical ruling edges, or ``None`` when they cannot make a grid."""
    count = raw.FPDFPage_CountObjects(page_handle)
    if count < 2 * _GRID:
        return None
    page = pointer_arg(page_handle)
    get = unchecked("FPDFPage_GetObject", _Handle)
    kind, bounds = unchecked("FPDFPageObj_GetType"), unchecked("FPDFPageObj_GetBounds")
    count_segments = unchecked("FPDFPath_CountSegments")
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    refs = [ctypes.byref(v) for v in (left, bottom, right, top)]
    path_kind = raw.FPDF_PAGEOBJ_PATH
    horizontal: list[_Edge] = []
    vertical: list[_Edge] = []
    # Most objects of a text-heavy page are text (the EU Official Journal draws each word as
    # one): only their type is asked, through handles that stay ctypes objects, and the
    # paths are picked out in C (map and compress) without a Python step per object.
    objects = list(map(get, itertools.repeat(page, count), range(count)))
    paths = itertools.compress(objects, map(path_kind.__eq__, map(kind, objects)))
    for obj in paths:
        bounds(obj, *refs)
        x0, x1, y0, y1 = left.value, right.value, height - top.value, height - bottom.value
        w, h = x1 - x0, y1 - y0
        if h < _THIN and w >= _MIN_RULE:
            horizontal.append((x0, x1, (y0 + y1) / 2))
        elif w < _THIN and h >= _MIN_RULE:
            vertical.append(((x0 + x1) / 2, y0, y1))
        elif w >= _MIN_RULE and h >= _MIN_RULE:
            segments = count_segments(obj)
            if segments <= 5:  # a rectangle: its four sides
                horizontal += [(x0, x1, y0), (x0, x1, y1)]
                vertical += [(x0, y0, y1), (x1, y0, y1)]
            elif segments <= _MAX_SEGMENTS:
                _segment_edges(ctypes.cast(obj, raw.FPDF_PAGEOBJECT), segments, height, horizontal, vertical)
        if len(horizontal) + len(vertical) > _MAX_EDGES:
            return None
    h_rows = {round(y / 3) for _, _, y in horizontal}
    v_cols = {round(x / 3) for x, _, _ in vertical}
    return (horizontal, vertical) if len(h_rows) >= _GRID and len(v_cols) >= _GRID else None


class _Handle(ctypes.c_void_p):
    """A ``c_void_p`` subclass as a restype: ctypes then returns the handle unconverted,
    ready to pass on, instead of a Python int that would need wrapping again."""


def _segment_edges(obj: Any, segments: int, height: float, horizontal: list[_Edge],
                   vertical: list[_Edge]) -> None:
    """The straight, axis-parallel pieces of a path drawing many lines at once (a grid)."""
    matrix = raw.FS_MATRIX()
    if not raw.FPDFPageObj_GetMatrix(obj, matrix):
        return
    x, y = ctypes.c_float(), ctypes.c_float()
    points: list[tuple[float, float, int]] = []
    for i in range(segments):
        segment = raw.FPDFPath_GetPathSegment(obj, i)
        if not raw.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y)):
            continue
        px = matrix.a * x.value + matrix.c * y.value + matrix.e
        py = matrix.b * x.value + matrix.d * y.value + matrix.f
        points.append((px, height - py, raw.FPDFPathSegment_GetType(segment)))
    for (ax, ay, _), (bx, by, kind) in itertools.pairwise(points):
        if kind != raw.FPDF_SEGMENT_LINETO:
            continue
        if abs(ay - by) < 0.5 and abs(ax - bx) >= _MIN_RULE:
            horizontal.append((min(ax, bx), max(ax, bx), ay))
        elif abs(ax - bx) < 0.5 and abs(ay - by) >= _MIN_RULE:
            vertical.append((ax, min(ay, by), max(ay, by)))


def route_words(words: Sequence[Word], areas: Sequence[TableArea]) -> list[Word]:
    """Move the words of one reader line that lie inside a table to it; return the others."""
    kept: list[Word] = []
    taken: dict[int, list[Word]] = {}
    for word in words:
        cx, cy = (word.x0 + word.x1) / 2, (word.top + word.bottom) / 2
        for index, area in enumerate(areas):
            if area.contains(cx, cy):
                taken.setdefault(index, []).append(word)
                break
        else:
            kept.append(word)
    for index, group in taken.items():
        areas[index].words.append(group)
    return kept

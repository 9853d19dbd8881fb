"""Ruling lines → table cells: the geometry of pdfplumber's ``lines`` table strategy, lean.

pdfplumber's ``TableFinder`` does this on dicts, and importing pdfplumber (pdfminer
with it) costs more than reading a 40-page PDF with pdfium, so a document with one
ruled table paid for the import and for the finder's quadratic corner search. This
module follows the same steps with the same default tolerances, so it finds the same
cells (a test compares the two on generated grids):

1. **snap**: vertical rules whose x lie within 3 pt of each other (chained) move to
   their mean x; horizontal rules likewise by y;
2. **join**: rules on one line that overlap or lie within 3 pt end to end become one;
3. rules shorter than 3 pt are dropped;
4. **intersections**: a vertical and a horizontal rule cross (3 pt tolerance) at
   ``(x of the vertical, y of the horizontal)``;
5. **cells**: from each intersection, the nearest intersection below and to the right
   that close a rectangle along shared rules;
6. **tables**: cells sharing a corner belong to one table; a table needs two cells.

Edges are tuples: horizontal ``(x0, x1, y)``, vertical ``(x, top, bottom)``, in PDF
points from the top-left of the page.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SNAP = 3.0
JOIN = 3.0
MIN_LENGTH = 3.0
PREFILTER = 1.0
CROSS = 3.0

Cell = tuple[float, float, float, float]  # x0, top, x1, bottom
_Point = tuple[float, float]
_Rule = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Grid:
    """One table found by its rules: its cells row by row (``None`` where a cell spans)."""

    bbox: Cell
    rows: list[list[Cell | None]]


def find_grids(horizontal: Iterable[tuple[float, float, float]],
               vertical: Iterable[tuple[float, float, float]]) -> list[Grid]:
    """The tables that the ruling lines form, top to bottom."""
    cells = _cells([e for e in horizontal if e[1] - e[0] >= PREFILTER],
                   [e for e in vertical if e[2] - e[1] >= PREFILTER])
    return [_grid(group) for group in _tables(cells)]


def _snap(items: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """``(position, start, end)`` items moved to the mean position of their cluster."""
    values = sorted({p for p, _, _ in items})
    cluster_of: dict[float, int] = {}
    cluster = 0
    last = values[0]
    for value in values:
        if value > last + SNAP:
            cluster += 1
        cluster_of[value] = cluster
        last = value
    groups: dict[int, list[tuple[float, float, float]]] = defaultdict(list)
    for item in items:
        groups[cluster_of[item[0]]].append(item)
    out: list[tuple[float, float, float]] = []
    for key in sorted(groups):
        group = groups[key]
        mean = sum(p for p, _, _ in group) / len(group)
        # p + (mean - p), not mean: the same float pdfplumber's move_object produces.
        out += [(p + (mean - p), a, b) for p, a, b in group]
    return out


def _join(items: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Join ``(position, start, end)`` items on one line that touch (within ``JOIN``)."""
    by_line: dict[float, list[tuple[float, float, float]]] = defaultdict(list)
    for item in items:
        by_line[item[0]].append(item)
    out: list[tuple[float, float, float]] = []
    for position in sorted(by_line):
        line = sorted(by_line[position], key=lambda item: item[1])
        start, end = line[0][1], line[0][2]
        for _, a, b in line[1:]:
            if a <= end + JOIN:
                end = max(end, b)
            else:
                out.append((position, start, end))
                start, end = a, b
        out.append((position, start, end))
    return [item for item in out if item[2] - item[1] >= MIN_LENGTH]


def _lines(edges: Sequence[_Rule], *, horizontal: bool) -> list[_Rule]:
    """Snapped and joined rules as ``(position, start, end)``."""
    items = [(y, x0, x1) for x0, x1, y in edges] if horizontal else list(edges)
    return _join(_snap(items)) if items else []


def _cells(h_edges: list[_Rule], v_edges: list[_Rule]) -> list[Cell]:
    """The smallest rectangles closed by rules, found from their intersections."""
    h = _lines(h_edges, horizontal=True)  # (y, x0, x1)
    v = _lines(v_edges, horizontal=False)  # (x, top, bottom)
    if not h or not v:
        return []
    # Each point: the rules through it (a rule is its own tuple, as pdfplumber compares bboxes).
    through_v: dict[_Point, set[tuple[float, float, float]]] = defaultdict(set)
    through_h: dict[_Point, set[tuple[float, float, float]]] = defaultdict(set)
    h_sorted = sorted(h)
    h_ys = [rule[0] for rule in h_sorted]
    for rule_v in sorted(v, key=lambda r: (r[0], r[1])):
        x, top, bottom = rule_v
        # only the horizontal rules within the vertical one's reach (top - CROSS .. bottom + CROSS)
        for rule_h in h_sorted[bisect_left(h_ys, top - CROSS):bisect_right(h_ys, bottom + CROSS)]:
            y, x0, x1 = rule_h
            if top <= y + CROSS and bottom >= y - CROSS and x0 - CROSS <= x <= x1 + CROSS:
                point = (x, y)
                through_v[point].add(rule_v)
                through_h[point].add(rule_h)
    points = sorted(through_v)
    column: dict[float, list[float]] = defaultdict(list)  # x -> ys, ascending
    row: dict[float, list[float]] = defaultdict(list)  # y -> xs, ascending
    for x, y in points:
        column[x].append(y)
        row[y].append(x)
    cells: list[Cell] = []
    for x, y in points:
        ys, xs = column[x], row[y]
        below = ys[bisect_right(ys, y):]
        right = xs[bisect_right(xs, x):]
        found = _smallest_cell(x, y, below, right, through_v, through_h)
        if found is not None:
            cells.append(found)
    return cells


def _smallest_cell(x: float, y: float, below: list[float], right: list[float],
                   through_v: dict[_Point, set[tuple[float, float, float]]],
                   through_h: dict[_Point, set[tuple[float, float, float]]]) -> Cell | None:
    here_v, here_h = through_v[(x, y)], through_h[(x, y)]
    for y2 in below:
        if here_v.isdisjoint(through_v[(x, y2)]):
            continue
        for x2 in right:
            if here_h.isdisjoint(through_h[(x2, y)]):
                continue
            corner = (x2, y2)
            if (corner in through_v and not through_v[corner].isdisjoint(through_v[(x2, y)])
                    and not through_h[corner].isdisjoint(through_h[(x, y2)])):
                return (x, y, x2, y2)
    return None


def _tables(cells: list[Cell]) -> list[list[Cell]]:
    """Cells grouped by shared corners, each group a table, top to bottom (two cells at least)."""
    at_corner: dict[_Point, list[int]] = defaultdict(list)
    for index, cell in enumerate(cells):
        for corner in _corners(cell):
            at_corner[corner].append(index)
    seen = [False] * len(cells)
    tables: list[list[Cell]] = []
    for start in range(len(cells)):
        if seen[start]:
            continue
        seen[start] = True
        group, todo = [], [start]
        while todo:  # every cell reachable through shared corners
            index = todo.pop()
            group.append(cells[index])
            for corner in _corners(cells[index]):
                for other in at_corner[corner]:
                    if not seen[other]:
                        seen[other] = True
                        todo.append(other)
        tables.append(group)
    tables.sort(key=lambda t: min((c[1], c[0]) for c in t))
    return [t for t in tables if len(t) > 1]


def _corners(cell: Cell) -> tuple[_Point, _Point, _Point, _Point]:
    x0, top, x1, bottom = cell
    return ((x0, top), (x0, bottom), (x1, top), (x1, bottom))


def _grid(cells: list[Cell]) -> Grid:
    """Rows of a table: cells by top, each row laid on the table's distinct left edges."""
    xs = sorted({c[0] for c in cells})
    by_top: dict[float, dict[float, Cell]] = defaultdict(dict)
    for cell in sorted(cells, key=lambda c: (c[1], c[0])):
        by_top[cell[1]][cell[0]] = cell
    rows = [[by_top[top].get(x) for x in xs] for top in sorted(by_top)]
    bbox = (min(c[0] for c in cells), min(c[1] for c in cells),
            max(c[2] for c in cells), max(c[3] for c in cells))
    return Grid(bbox=bbox, rows=rows)

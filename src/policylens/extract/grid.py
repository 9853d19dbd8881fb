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
from operator import itemgetter

SNAP = 3.0
JOIN = 3.0
MIN_LENGTH = 3.0
PREFILTER = 1.0
CROSS = 3.0

Cell = tuple[float, float, float, float]  # x0, top, x1, bottom
_Rule = tuple[float, float, float]
_IndexCell = tuple[int, int, int, int]  # x0, top, x1, bottom as indices into xs and ys


@dataclass(frozen=True, slots=True)
class Grid:
    """One table found by its rules: its cells row by row (``None`` where a cell spans)."""

    bbox: Cell
    rows: list[list[Cell | None]]


def find_grids(horizontal: Iterable[tuple[float, float, float]],
               vertical: Iterable[tuple[float, float, float]], *, min_size: int = 1) -> list[Grid]:
    """The tables that the ruling lines form, top to bottom; with ``min_size``, only those
    with at least that many rows (distinct cell tops) and columns (distinct cell lefts)."""
    found = _cells([e for e in horizontal if e[1] - e[0] >= PREFILTER],
                   [e for e in vertical if e[2] - e[1] >= PREFILTER])
    if found is None:
        return []
    cells, xs, ys = found
    return [_grid([(xs[a], ys[b], xs[c], ys[d]) for a, b, c, d in group])
            for group in _tables(cells, len(ys))
            if min_size <= 1 or (len({cell[1] for cell in group}) >= min_size
                                 and len({cell[0] for cell in group}) >= min_size)]


def _lines(edges: Sequence[_Rule], *, horizontal: bool) -> list[_Rule]:
    """Snapped and joined rules as ``(position, start, end)``: ``_join(_snap(items))``, with
    the items sorted once and each cluster snapped and joined from its run of them.

    A cluster's mean sums its positions in the items' given order (as pdfplumber does);
    when they are all one value (the sides of boxes drawn at one y, the common case) the
    order cannot matter.
    """
    items = [(y, x0, x1) for x0, x1, y in edges] if horizontal else list(edges)
    n = len(items)
    order = sorted(range(n), key=items.__getitem__)  # by position, start, end
    ordered = [items[k] for k in order]
    out: list[_Rule] = []
    lo = 0
    while lo < n:
        first = previous = ordered[lo][0]
        hi = lo + 1
        while hi < n and ordered[hi][0] <= previous + SNAP:
            previous = ordered[hi][0]
            hi += 1
        if first == previous:
            mean = sum([first] * (hi - lo)) / (hi - lo)
            _join_run(ordered, lo, hi, first + (mean - first), out)
        else:
            mean = sum([items[k][0] for k in sorted(order[lo:hi])]) / (hi - lo)
            # p + (mean - p), not mean: the same float pdfplumber's move_object produces.
            by_line: dict[float, list[_Rule]] = {}
            for k in range(lo, hi):
                item = ordered[k]
                by_line.setdefault(item[0] + (mean - item[0]), []).append(item)
            for position in sorted(by_line):
                run = sorted(by_line[position], key=_START_END)
                _join_run(run, 0, len(run), position, out)
        lo = hi
    return out


_START_END = itemgetter(1, 2)
_POSITION_START = itemgetter(0, 1)
_TOP_LEFT = itemgetter(1, 0)


def _join_run(items: list[_Rule], lo: int, hi: int, position: float, out: list[_Rule]) -> None:
    """Append to ``out`` the rules at ``position`` that ``items[lo:hi]`` (one line, sorted by
    start) join into (touching within ``JOIN``), those ``MIN_LENGTH`` long at least."""
    _, start, end = items[lo]
    for k in range(lo + 1, hi):
        _, a, b = items[k]
        if a <= end + JOIN:
            if b > end:
                end = b
        else:
            if end - start >= MIN_LENGTH:
                out.append((position, start, end))
            start, end = a, b
    if end - start >= MIN_LENGTH:
        out.append((position, start, end))


def _cells(h_edges: list[_Rule],
           v_edges: list[_Rule]) -> tuple[list[_IndexCell], list[float], list[float]] | None:
    """The smallest rectangles closed by rules, found from their intersections.

    Cells come as indices into the distinct x of the vertical rules and y of the horizontal
    ones (returned with them), and a point ``(x, y)`` is the int ``x index * len(ys) + y
    index``: the search hashes small ints, not tuples of floats. A rule is its own tuple (as
    pdfplumber compares bboxes), numbered here, so equal tuples share a number.
    """
    h = _lines(h_edges, horizontal=True)  # (y, x0, x1)
    v = _lines(v_edges, horizontal=False)  # (x, top, bottom)
    if not h or not v:
        return None
    h_sorted = sorted(h)
    h_ys = [rule[0] for rule in h_sorted]
    xs = sorted({rule[0] for rule in v})
    ys = sorted(set(h_ys))
    n_y = len(ys)
    x_at = {x: i * n_y for i, x in enumerate(xs)}
    y_at = {y: i for i, y in enumerate(ys)}
    h_id: dict[_Rule, int] = {}
    h_ids = [h_id.setdefault(rule, len(h_id)) for rule in h_sorted]
    v_id: dict[_Rule, int] = {}
    # Each point: the rules through it.
    through_v: dict[int, set[int]] = {}
    through_h: dict[int, set[int]] = {}
    for rule_v in sorted(v, key=_POSITION_START):
        x, top, bottom = rule_v
        vid = v_id.setdefault(rule_v, len(v_id))
        offset = x_at[x]
        # only the horizontal rules within the vertical one's reach (top - CROSS .. bottom + CROSS)
        for k in range(bisect_left(h_ys, top - CROSS), bisect_right(h_ys, bottom + CROSS)):
            y, x0, x1 = h_sorted[k]
            if top <= y + CROSS and bottom >= y - CROSS and x0 - CROSS <= x <= x1 + CROSS:
                point = offset + y_at[y]
                if point in through_v:
                    through_v[point].add(vid)
                    through_h[point].add(h_ids[k])
                else:
                    through_v[point] = {vid}
                    through_h[point] = {h_ids[k]}
    points = sorted(through_v)  # by x, then y
    column_of: dict[int, list[int]] = defaultdict(list)  # x index -> y indices, ascending
    row_of: dict[int, list[int]] = defaultdict(list)  # y index -> x offsets (x index * n_y), ascending
    for point in points:
        xo, yi = point - point % n_y, point % n_y
        column_of[xo].append(yi)
        row_of[yi].append(xo)
    cells: list[_IndexCell] = []
    for point in points:
        yi = point % n_y
        xo = point - yi
        # The points to the right sharing a horizontal rule (with the vertical rules through
        # them), then the points below sharing a vertical rule, top down: the first corner
        # closing a rectangle along shared rules makes the cell.
        here_h = through_h[point]
        row = row_of[yi]
        right = [(x2, through_v[x2 + yi]) for x2 in row[bisect_right(row, xo):]
                 if not here_h.isdisjoint(through_h[x2 + yi])]
        if not right:
            continue
        here_v = through_v[point]
        column = column_of[xo]
        for y2 in column[bisect_right(column, yi):]:
            if here_v.isdisjoint(through_v[xo + y2]):
                continue
            left_side = through_h[xo + y2]
            for x2, right_side in right:
                corner_v = through_v.get(x2 + y2)
                if (corner_v is not None and not corner_v.isdisjoint(right_side)
                        and not through_h[x2 + y2].isdisjoint(left_side)):
                    cells.append((xo // n_y, yi, x2 // n_y, y2))
                    break
            else:
                continue
            break
    return cells, xs, ys


def _tables(cells: list[_IndexCell], n_y: int) -> list[list[_IndexCell]]:
    """Cells grouped by shared corners, each group a table, top to bottom (two cells at least)."""
    at_corner: dict[int, list[int]] = defaultdict(list)
    corners = [(a * n_y + b, a * n_y + d, c * n_y + b, c * n_y + d) for a, b, c, d in cells]
    for index, four in enumerate(corners):
        for corner in four:
            at_corner[corner].append(index)
    seen = [False] * len(cells)
    tables: list[list[_IndexCell]] = []
    for start in range(len(cells)):
        if seen[start]:
            continue
        seen[start] = True
        group, todo = [], [start]
        while todo:  # every cell reachable through shared corners
            index = todo.pop()
            group.append(cells[index])
            for corner in corners[index]:
                for other in at_corner[corner]:
                    if not seen[other]:
                        seen[other] = True
                        todo.append(other)
        tables.append(group)
    # indices grow with the coordinates, so this is the order of the cells' (top, x0)
    tables.sort(key=lambda t: min((c[1], c[0]) for c in t))
    return [t for t in tables if len(t) > 1]


def _grid(cells: list[Cell]) -> Grid:
    """Rows of a table: cells by top, each row laid on the table's distinct left edges."""
    xs = sorted({c[0] for c in cells})
    by_top: dict[float, dict[float, Cell]] = defaultdict(dict)
    for cell in sorted(cells, key=_TOP_LEFT):
        by_top[cell[1]][cell[0]] = cell
    rows = [[by_top[top].get(x) for x in xs] for top in sorted(by_top)]
    bbox = (min(c[0] for c in cells), min(c[1] for c in cells),
            max(c[2] for c in cells), max(c[3] for c in cells))
    return Grid(bbox=bbox, rows=rows)

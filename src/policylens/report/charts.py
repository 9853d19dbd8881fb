"""The report's pictures, drawn as inline SVG (no JavaScript, nothing to fetch).

``ranking_chart`` is a dot-and-whisker plot of every framework's index and
interval on the -1 (sector-specific) .. +1 (centralized) axis; ``heat_maps``
turns the facet counts into shaded document x facet tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from policylens.labels import FACET_KINDS
from policylens.rank.types import FrameworkScore

# One hue per side, grey for neutral: the same values feed the page's CSS.
COLOURS: Mapping[str, str] = {
    "centralized": "#1f5fa8",
    "sector_specific": "#c2571a",
    "neutral": "#7a7f87",
    "centralized_tint": "#e3edf8",
    "sector_specific_tint": "#fbeadf",
    "neutral_tint": "#f1f2f4",
    "heat": "#3d4a7a",
}

# Within this distance of 0 a framework is drawn as balanced (grey), like the CLI table.
BALANCED = 0.1

WIDTH = 880
LABEL_WIDTH = 320
RIGHT_PAD = 70
TOP = 34
ROW = 26
BOTTOM = 44
MAX_LABEL = 38


def lean_of(index: float) -> str:
    """``centralized``, ``sector_specific`` or ``neutral`` (balanced) for an index value."""
    if index > BALANCED:
        return "centralized"
    if index < -BALANCED:
        return "sector_specific"
    return "neutral"


def _x(value: float) -> float:
    value = max(-1.0, min(1.0, value))
    plot = WIDTH - LABEL_WIDTH - RIGHT_PAD
    return LABEL_WIDTH + (value + 1.0) / 2.0 * plot


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ranking_chart(scores: Sequence[FrameworkScore], titles: Sequence[str],
                  anchors: Sequence[str]) -> Markup:
    """Dot-and-whisker SVG, one row per framework in the order given (most centralized first).

    Every marker is a ``<circle class="marker">`` with a ``<title>`` tooltip; labels
    link to the document's section through ``anchors``.
    """
    height = TOP + ROW * max(len(scores), 1) + BOTTOM
    left, right, mid = _x(-1.0), _x(1.0), _x(0.0)
    plot_bottom = TOP + ROW * max(len(scores), 1)
    c, s = COLOURS["centralized"], COLOURS["sector_specific"]
    out: list[str] = [
        f'<svg class="ranking-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="chart-title">',
        '<title id="chart-title">Centralization index with 95% interval, most centralized first</title>',
        f'<rect x="{left:.1f}" y="{TOP - 8}" width="{mid - left:.1f}" height="{plot_bottom - TOP + 8}" '
        f'fill="{COLOURS["sector_specific_tint"]}"/>',
        f'<rect x="{mid:.1f}" y="{TOP - 8}" width="{right - mid:.1f}" height="{plot_bottom - TOP + 8}" '
        f'fill="{COLOURS["centralized_tint"]}"/>',
        f'<text x="{left:.1f}" y="{TOP - 14}" class="side" fill="{s}">◀ sector-specific</text>',
        f'<text x="{right:.1f}" y="{TOP - 14}" class="side" fill="{c}" text-anchor="end">'
        'centralized ▶</text>',
    ]
    for tick in (-1.0, -0.5, 0.0, 0.5, 1.0):
        x = _x(tick)
        stroke = "#5b6068" if tick == 0.0 else "#ffffff"
        width = 1.2 if tick == 0.0 else 1.0
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{plot_bottom}" '
                   f'stroke="{stroke}" stroke-width="{width}"/>')
        out.append(f'<text x="{x:.1f}" y="{plot_bottom + 16}" class="tick" text-anchor="middle">'
                   f'{tick:+.1f}</text>'.replace("+0.0", "0"))
    out.append(f'<text x="{(left + right) / 2:.1f}" y="{plot_bottom + 36}" class="axis" '
               'text-anchor="middle">centralization index (dot) and 95% interval (whisker)</text>')
    for i, (score, title, anchor) in enumerate(zip(scores, titles, anchors, strict=True)):
        y = TOP + ROW * i + ROW / 2
        lean = lean_of(score.index)
        colour = COLOURS[lean]
        lo, hi = sorted((score.ci_low, score.ci_high))
        tip = (f"#{score.rank if score.rank is not None else i + 1} {title}: index {score.index:+.3f}, "
               f"95% interval [{score.ci_low:+.3f}, {score.ci_high:+.3f}], {score.n_sentences} sentences")
        if i % 2:
            out.append(f'<rect x="0" y="{y - ROW / 2:.1f}" width="{LABEL_WIDTH - 8}" height="{ROW}" '
                       'fill="#f6f7f9"/>')
        out.append(Markup('<a href="#{}"><text x="{}" y="{}" class="label" text-anchor="end">{}</text></a>')
                   .format(anchor, LABEL_WIDTH - 14, f"{y + 4:.1f}", _short(title)))
        out.append(f'<g class="row" data-rank="{i + 1}">')
        out.append(f'<line class="whisker" x1="{_x(lo):.1f}" y1="{y:.1f}" x2="{_x(hi):.1f}" y2="{y:.1f}" '
                   f'stroke="{colour}" stroke-width="2.2" stroke-linecap="round"/>')
        for end in (lo, hi):
            out.append(f'<line x1="{_x(end):.1f}" y1="{y - 5:.1f}" x2="{_x(end):.1f}" y2="{y + 5:.1f}" '
                       f'stroke="{colour}" stroke-width="1.6"/>')
        out.append(Markup('<circle class="marker marker-{}" cx="{}" cy="{}" r="6" fill="{}" stroke="#fff" '
                          'stroke-width="1.5"><title>{}</title></circle>')
                   .format(lean, f"{_x(score.index):.1f}", f"{y:.1f}", colour, tip))
        out.append(f'<text x="{right + 10:.1f}" y="{y + 4:.1f}" class="value" fill="{colour}">'
                   f'{score.index:+.2f}</text>')
        out.append("</g>")
    if not scores:
        out.append(f'<text x="{(left + right) / 2:.1f}" y="{TOP + ROW / 2 + 4}" class="axis" '
                   'text-anchor="middle">no documents were ranked</text>')
    out.append("</svg>")
    # Plain f-strings above hold only numbers and constants; all document text went through
    # Markup.format, which escapes it.
    return Markup("\n".join(out))


@dataclass(frozen=True, slots=True)
class HeatCell:
    """One document's share of sentences carrying one facet."""

    kind: str
    name: str
    count: int
    share: float  # count / n_sentences
    alpha: float  # 0..1 shading, relative to the largest share of this facet kind
    first: bool = False  # first column of its kind (drawn with a separator)

    @property
    def dark(self) -> bool:
        return self.alpha > 0.55


@dataclass(frozen=True, slots=True)
class HeatMap:
    """Documents x facet names of one or more kinds, columns grouped by kind."""

    name: str
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (kind, names) with at least one name
    rows: tuple[tuple[str, str, tuple[HeatCell, ...]], ...]  # (title, anchor, cells)
    max_share: Mapping[str, float]  # per kind: the share drawn darkest

    @property
    def columns(self) -> tuple[HeatCell, ...]:
        """The first row's cells (kind and name of every column); empty without documents."""
        return self.rows[0][2] if self.rows else ()


# Sectors get a table of their own; the shorter vocabularies share one.
HEAT_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Sectors", ("sector",)),
    ("Level, instrument and style", ("level", "instrument", "style")),
)


def heat_maps(scores: Sequence[FrameworkScore], titles: Sequence[str],
              anchors: Sequence[str]) -> list[HeatMap]:
    """The facet heat maps; facets found in no document are left out."""
    columns = {kind: _columns(scores, kind) for kind in FACET_KINDS}
    top = {kind: max((_share(score, kind, name) for score in scores for name in names), default=0.0)
           for kind, names in columns.items()}
    maps: list[HeatMap] = []
    for name, kinds in HEAT_TABLES:
        groups = tuple((kind, columns[kind]) for kind in kinds if columns[kind])
        rows = []
        for score, title, anchor in zip(scores, titles, anchors, strict=True):
            cells = []
            for kind, names in groups:
                for j, facet in enumerate(names):
                    share = _share(score, kind, facet)
                    cells.append(HeatCell(kind=kind, name=facet, count=_count(score, kind, facet),
                                          share=share, alpha=share / top[kind] if top[kind] > 0 else 0.0,
                                          first=j == 0))
            rows.append((title, anchor, tuple(cells)))
        maps.append(HeatMap(name=name, groups=groups, rows=tuple(rows),
                            max_share={kind: top[kind] for kind, _ in groups}))
    return maps


def _columns(scores: Sequence[FrameworkScore], kind: str) -> tuple[str, ...]:
    """Facet names of ``kind`` present in any document: codebook order, then unknown names sorted."""
    found = {name for score in scores for name, n in score.facets.get(kind, {}).items() if n}
    vocabulary = FACET_KINDS[kind]
    return tuple([n for n in vocabulary if n in found] + sorted(found - set(vocabulary)))


def _count(score: FrameworkScore, kind: str, name: str) -> int:
    return int(score.facets.get(kind, {}).get(name, 0))


def _share(score: FrameworkScore, kind: str, name: str) -> float:
    return _count(score, kind, name) / score.n_sentences if score.n_sentences > 0 else 0.0


def heat_colour(alpha: float) -> str:
    """The cell background: the heat hue at ``alpha`` (a visible floor for any non-zero share)."""
    if alpha <= 0.0:
        return "transparent"
    hue = COLOURS["heat"].lstrip("#")
    r, g, b = (int(hue[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {0.08 + 0.92 * alpha:.3f})"
